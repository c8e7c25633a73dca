package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * SIGTERM in the middle of a closed-loop keep-alive load straight at one process, with one and four
 * HTTP event loops: no request may fail, whether it was sent on a connection opened before the
 * signal or after it; only a refused connect (nothing sent) is allowed.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class LoadShutdownIT {

  static final int CLIENTS = 16;

  @TempDir Path dir;

  private static Map<String, String> env(int instances, int delayMs) {
    return Map.of(
        "HTTP_INSTANCES", Integer.toString(instances),
        "SHUTDOWN_DELAY_MS", Integer.toString(delayMs));
  }

  /** Raw sockets: every attempt classified, separately for connections opened before/after. */
  @ParameterizedTest(name = "raw sockets, {0}, HTTP_INSTANCES={1}, SHUTDOWN_DELAY_MS={2}")
  @CsvSource({
    "/hello, 1, 0",
    "/hello, 1, 1000",
    "/hello, 4, 0",
    "/hello, 4, 1000",
    "/job?ms=5, 1, 0",
    "/job?ms=5, 4, 1000"
  })
  void noRequestFailsOnAnyConnection(String path, int instances, int delayMs) throws Exception {
    LoadClient load = loadThenSigterm(path, instances, delayMs, false);
    if (path.startsWith("/job")) {
      String records = Files.readString(ServiceProcess.records(dir));
      assertThat(load.ids()).isNotEmpty().allSatisfy(id -> assertThat(records).contains(id));
    }
  }

  /**
   * A client that opens a new connection for every request (curl in a loop): its connections open
   * throughout the drain, on every loop, and each must be served or refused, never accepted and
   * closed unanswered.
   */
  @ParameterizedTest(name = "connection per request, HTTP_INSTANCES={0}, SHUTDOWN_DELAY_MS={1}")
  @CsvSource({"2, 0", "4, 0", "4, 1000"})
  void aClientOpeningAConnectionPerRequestLosesNothing(int instances, int delayMs)
      throws Exception {
    loadThenSigterm("/hello", instances, delayMs, true);
  }

  /**
   * Runs {@link #CLIENTS} raw-socket clients on {@code path}, sends SIGTERM once each has had 50
   * answers, and requires no failure on connections opened before or after it, and exit 0.
   */
  private LoadClient loadThenSigterm(
      String path, int instances, int delayMs, boolean connectionPerRequest) throws Exception {
    try (ServiceProcess service = ServiceProcess.start(dir, env(instances, delayMs))) {
      LoadClient load =
          new LoadClient("127.0.0.1", service.port(), path, CLIENTS, connectionPerRequest);
      load.start();
      load.oks(50L * CLIENTS).get(30, TimeUnit.SECONDS);

      load.markSignal();
      service.signal("TERM");
      int status = service.awaitExit(Duration.ofSeconds(30));
      load.stop();

      System.out.println(
          "load result: "
              + path
              + (connectionPerRequest ? " (connection per request)" : "")
              + " instances="
              + instances
              + " delay="
              + delayMs
              + " exit="
              + status
              + " "
              + load.json());
      assertThat(load.failures(false)).as("failed on connections opened before SIGTERM").isZero();
      assertThat(load.failures(true)).as("failed on connections opened after SIGTERM").isZero();
      assertThat(status).isZero();
      return load;
    }
  }

  /** Client libraries made by others, as applications use them. */
  @ParameterizedTest(name = "{0}, HTTP_INSTANCES={1}, SHUTDOWN_DELAY_MS={2}")
  @CsvSource({
    "JDK, 1, 0",
    "JDK, 1, 1000",
    "JDK, 4, 0",
    "JDK, 4, 1000",
    "OKHTTP, 1, 0",
    "OKHTTP, 1, 1000",
    "OKHTTP, 4, 0",
    "OKHTTP, 4, 1000"
  })
  void aClientLibrarySeesNoFailure(LibraryLoad.Library library, int instances, int delayMs)
      throws Exception {
    try (ServiceProcess service = ServiceProcess.start(dir, env(instances, delayMs))) {
      LibraryLoad load = new LibraryLoad(library, service.port(), "/hello", CLIENTS, 50L * CLIENTS);
      load.warm().get(30, TimeUnit.SECONDS);

      service.signal("TERM");
      int status = service.awaitExit(Duration.ofSeconds(30));
      load.close();

      System.out.println(
          "library load result: instances=" + instances + " delay=" + delayMs + " " + load);
      assertThat(load.failed()).as("failed requests: " + load).isZero();
      assertThat(status).isZero();
    }
  }
}
