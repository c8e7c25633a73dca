package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** What the build leaves in {@code target/}: one jar, the runnable one, so target/*.jar is it. */
class PackagingIT {

  @Test
  void targetHoldsOneJarAndItIsRunnable() throws Exception {
    Path jar = Path.of(ServiceProcess.jar()).toAbsolutePath();
    List<Path> jars;
    try (Stream<Path> files = Files.list(jar.getParent())) {
      jars = files.filter(f -> f.toString().endsWith(".jar")).toList();
    }

    assertThat(jars).as("java -jar target/*.jar must name one jar").containsExactly(jar);
    try (JarFile runnable = new JarFile(jar.toFile())) {
      assertThat(runnable.getManifest().getMainAttributes().getValue("Main-Class"))
          .isEqualTo(Main.class.getName());
    }
  }
}
