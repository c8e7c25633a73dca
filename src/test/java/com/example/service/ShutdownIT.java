package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The fat jar as a process: real signals, real exit codes, real log lines. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ShutdownIT {

  @TempDir Path dir;

  private Path journal() {
    return dir.resolve("journal.jsonl");
  }

  /** Opens {@code n} connections that each send {@code path} and wait for the answer. */
  private static List<CompletableFuture<RawHttp.Response>> inFlight(int port, String path, int n)
      throws Exception {
    List<RawHttp> conns = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      RawHttp c = new RawHttp("127.0.0.1", port, 30_000);
      c.send(path);
      conns.add(c);
    }
    List<CompletableFuture<RawHttp.Response>> responses = new ArrayList<>();
    for (RawHttp c : conns) {
      responses.add(
          CompletableFuture.supplyAsync(
              () -> {
                try (c) {
                  return c.read();
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
              }));
    }
    return responses;
  }

  @Test
  void sigtermWithSlowRequestsInFlightAnswersAllAndExitsZero() throws Exception {
    try (ServiceProcess service = ServiceProcess.start(journal(), Map.of())) {
      int port = service.port();
      List<CompletableFuture<RawHttp.Response>> responses = inFlight(port, "/work?ms=2000", 20);
      // All 20 are inside the service once the worker holds them; /hello answering after them on
      // a fresh connection proves the requests were read (the server handles them in order).
      try (RawHttp probe = new RawHttp("127.0.0.1", port, 10_000)) {
        assertThat(probe.get("/hello").status()).isEqualTo(200);
      }

      service.signal("TERM");
      int status = service.awaitExit(Duration.ofSeconds(30));

      long lastResponseNanos = 0;
      String journal = Files.readString(journal());
      for (CompletableFuture<RawHttp.Response> r : responses) {
        RawHttp.Response response = r.get(10, TimeUnit.SECONDS);
        lastResponseNanos = Math.max(lastResponseNanos, System.nanoTime());
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.connectionClose()).isTrue();
        assertThat(journal).contains(response.body().replaceAll(".*\"id\":\"([^\"]+)\".*", "$1"));
      }
      assertThat(status).isZero();
      String log = service.output();
      assertThat(log)
          .contains("shutdown began (SIGTERM)")
          .contains("stopped http in")
          .contains("stopped worker in")
          .contains("stopped journal in")
          .contains("shutdown complete in")
          .contains("20 requests drained, 0 aborted; exit 0");
      assertThat(log.indexOf("stopped http")).isLessThan(log.indexOf("stopped worker"));
      assertThat(log.indexOf("stopped worker")).isLessThan(log.indexOf("stopped journal"));
    }
  }

  @Test
  void sigintAlsoShutsDownGracefully() throws Exception {
    try (ServiceProcess service = ServiceProcess.start(journal(), Map.of())) {
      service.port();
      service.signal("INT");
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
      assertThat(service.output()).contains("shutdown began (SIGINT)");
    }
  }

  @Test
  void aSecondSignalDuringShutdownExitsAtOnceWith130() throws Exception {
    try (ServiceProcess service = ServiceProcess.start(journal(), Map.of())) {
      int port = service.port();
      List<CompletableFuture<RawHttp.Response>> responses = inFlight(port, "/work?ms=20000", 2);
      try (RawHttp probe = new RawHttp("127.0.0.1", port, 10_000)) {
        probe.get("/hello");
      }
      service.signal("TERM");
      service.awaitLine(l -> l.contains("shutdown began")).get(10, TimeUnit.SECONDS);
      long sent = System.nanoTime();

      service.signal("INT");
      int status = service.awaitExit(Duration.ofSeconds(10));

      long tookMs = TimeUnit.NANOSECONDS.toMillis(service.exitNanos() - sent);
      assertThat(status).isEqualTo(130);
      assertThat(tookMs).as("exit after the second signal").isLessThan(2_000);
      assertThat(service.output()).contains("SIGINT received during shutdown: exiting now");
      assertThat(responses).allSatisfy(r -> assertThat(r).isCompletedExceptionally());
    }
  }

  @Test
  void aTakenPortExitsNonZeroWithAClearMessage() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        ServiceProcess service =
            ServiceProcess.start(
                journal(), Map.of("HTTP_PORT", Integer.toString(taken.getLocalPort())))) {
      assertThat(service.awaitExit(Duration.ofSeconds(20))).isEqualTo(2);
      assertThat(service.output())
          .contains("startup failed: http: cannot listen on 127.0.0.1:" + taken.getLocalPort());
    }
  }

  @Test
  void badConfigurationExitsNonZeroNamingTheKey() throws Exception {
    try (ServiceProcess service =
        ServiceProcess.start(journal(), Map.of("SHUTDOWN_TIMEOUT_MS", "soon"))) {
      assertThat(service.awaitExit(Duration.ofSeconds(20))).isEqualTo(2);
      assertThat(service.output()).contains("startup failed: invalid SHUTDOWN_TIMEOUT_MS=soon");
    }
  }
}
