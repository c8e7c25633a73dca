package com.example.service;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * An AppCDS archive of the classes the service loads, for the process tests: made once per test JVM
 * by a training run (start, one request, SIGTERM), then used by every {@link ServiceProcess}
 * started with {@link ServiceProcess#start}. It halves a start here (about 1.35 s to 0.6 s), and
 * the suite starts the service about a hundred times. The image does the same with JDK 25's AOT
 * cache (Dockerfile). JDK 17 archives classes from jars only, so the test classes are jarred first.
 */
final class ClassArchive {

  private static List<String> javaArgs;

  private ClassArchive() {}

  /**
   * The java arguments before the main class: the archive and a class path it matches, or just the
   * class path if the archive could not be made (a line says why).
   */
  static synchronized List<String> javaArgs() {
    if (javaArgs == null) {
      javaArgs = make();
    }
    return javaArgs;
  }

  private static List<String> make() {
    try {
      Path dir = Files.createDirectories(Path.of(ServiceProcess.jar()).getParent().resolve("cds"));
      String cp =
          ServiceProcess.classPath(
              jar(ServiceProcess.testClasses(), dir.resolve("test-classes.jar")));
      Path archive = dir.resolve("service.jsa");
      Files.deleteIfExists(archive);
      train(cp, archive, dir);
      if (!Files.isRegularFile(archive)) {
        throw new IOException("the training run wrote no archive");
      }
      return List.of("-XX:SharedArchiveFile=" + archive.toAbsolutePath(), "-cp", cp);
    } catch (Exception e) {
      System.out.println("process tests start without a class archive: " + e);
      return List.of("-cp", ServiceProcess.classPath(ServiceProcess.testClasses()));
    }
  }

  /** Starts the service with the archive to be written at its exit, serves a request, stops it. */
  private static void train(String cp, Path archive, Path dir) throws Exception {
    List<String> args =
        List.of(
            "-ea",
            "-XX:ArchiveClassesAtExit=" + archive.toAbsolutePath(),
            "-cp",
            cp,
            TestMain.class.getName());
    try (ServiceProcess service = ServiceProcess.java(List.of(), args, dir, Map.of()).quiet();
        RawHttp conn = new RawHttp("127.0.0.1", service.port(), 10_000)) {
      int hello = conn.get("/hello").status();
      if (hello != 200) {
        throw new IOException("training request answered " + hello);
      }
      service.signal("TERM");
      int status = service.awaitExit(Duration.ofSeconds(60));
      if (status != 0) {
        throw new IOException("training run exited " + status);
      }
    }
  }

  /** Jars a directory of classes into {@code jar}. */
  private static Path jar(Path classes, Path jar) throws IOException {
    try (OutputStream file = Files.newOutputStream(jar);
        JarOutputStream out = new JarOutputStream(file);
        Stream<Path> files = Files.walk(classes)) {
      for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
        Files.copy(f, out);
        out.closeEntry();
      }
    }
    return jar;
  }
}
