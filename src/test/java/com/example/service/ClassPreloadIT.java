package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.example.service.lifecycle.ClassPreload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ClassPreload}'s list is what a start of the lifecycle loads from the jar: a training run
 * of the lifecycle's tests' service (no archive, no preloading, the JVM logging each class it
 * loads) answers the probes, a scrape and {@code /hello} over HTTP/1.1, then {@code /hello} over
 * h2c, and stops on SIGTERM; the classes it loaded from the jar, in their order, are the list. The
 * test fails when the list and the run differ by more than a twentieth either way (a Vert.x
 * upgrade, a new library). A list written on JDK 17 differs from a run on JDK 25 by about 40
 * classes each way (Netty's for each JDK), half the margin. To write the list again from a run on
 * this JDK:
 *
 * <pre>./mvnw -B verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dit.test=ClassPreloadIT -Dclass.list.update=true</pre>
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ClassPreloadIT {

  private static final Path LIST = Path.of("src/main/resources").resolve(ClassPreload.LIST);

  @TempDir Path dir;

  @Test
  void theListIsWhatAStartLoads() throws Exception {
    List<String> loaded = train();
    assertThat(loaded).as("classes a start loads from the jar").hasSizeGreaterThan(500);
    if (Boolean.getBoolean("class.list.update")) {
      Files.createDirectories(LIST.getParent());
      Files.write(LIST, loaded);
      return;
    }

    List<String> listed = Files.readAllLines(LIST);
    Set<String> missing = new LinkedHashSet<>(loaded);
    missing.removeAll(listed);
    Set<String> extra = new LinkedHashSet<>(listed);
    extra.removeAll(loaded);
    String update = "write it again: see ClassPreloadIT's Javadoc";
    assertThat(missing.size())
        .as("classes a start loads that %s lacks (%s): %s", LIST, update, missing)
        .isLessThanOrEqualTo(loaded.size() / 20);
    assertThat(extra.size())
        .as("classes %s lists that a start does not load (%s): %s", LIST, update, extra)
        .isLessThanOrEqualTo(listed.size() / 20);
  }

  /** The classes a start, its first requests and its shutdown load from the jar, in order. */
  private List<String> train() throws Exception {
    Path log = dir.resolve("classes.log");
    List<String> args =
        List.of(
            "-Xlog:class+load=info:file=" + log,
            // What the main thread loads, not what an older list had loaded for it.
            "-D" + ClassPreload.ENABLED + "=false",
            "-cp",
            ServiceProcess.classPath(ServiceProcess.testClasses()),
            TestMain.class.getName());
    try (ServiceProcess service = ServiceProcess.java(List.of(), args, dir, Map.of()).quiet()) {
      try (RawHttp conn = new RawHttp("127.0.0.1", service.port(), 10_000)) {
        for (String path : List.of("/hello", "/health/live", "/health/ready", "/metrics")) {
          assertThat(conn.get(path).status()).as(path).isEqualTo(200);
        }
      }
      try (H2Client h2 = new H2Client("127.0.0.1", service.port())) {
        assertThat(h2.get("/hello").get(10, TimeUnit.SECONDS).status()).as("h2c").isEqualTo(200);
      }
      service.signal("TERM");
      assertThat(service.awaitExit(Duration.ofSeconds(30))).as("exit status").isZero();
    }
    // The jar is where Main came from: its source, as the JVM writes it, marks the jar's classes.
    List<String> lines = Files.readAllLines(log);
    String main = "] " + Main.class.getName() + " source: ";
    String jar =
        lines.stream()
            .filter(line -> line.contains(main))
            .map(line -> line.substring(line.indexOf(" source: ")))
            .findFirst()
            .orElseThrow(() -> new AssertionError("the run did not load " + main + " from a jar"));
    List<String> loaded = new ArrayList<>();
    for (String line : lines) {
      if (line.endsWith(jar)) {
        String name = line.substring(0, line.length() - jar.length());
        loaded.add(name.substring(name.lastIndexOf(' ') + 1));
      }
    }
    return loaded;
  }
}
