package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The service as a process: real signals, real exit codes, real log lines. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ShutdownIT {

  @TempDir Path dir;

  /** The test's own reader threads: the common pool's size would follow the core count. */
  private final ExecutorService readers = Executors.newFixedThreadPool(24);

  @AfterEach
  void stopReaders() {
    readers.shutdownNow();
  }

  private List<CompletableFuture<RawHttp.Response>> inFlight(int port, String path, int n)
      throws Exception {
    return RawHttp.inFlight(port, path, n, readers);
  }

  private static Map<String, String> instances(int n) {
    return Map.of("HTTP_INSTANCES", Integer.toString(n));
  }

  /** Waits until the test application's worker has {@code n} jobs in progress. */
  private static void awaitJobsStarted(ServiceProcess service, int n) throws Exception {
    service.awaitLine(l -> l.contains("jobs in progress: " + n)).get(20, TimeUnit.SECONDS);
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void sigtermWithSlowRequestsInFlightAnswersAllAndExitsZero(int instances) throws Exception {
    try (ServiceProcess service = ServiceProcess.start(dir, instances(instances))) {
      int port = service.port();
      List<CompletableFuture<RawHttp.Response>> responses = inFlight(port, "/job?ms=2000", 20);
      awaitJobsStarted(service, 20);

      service.signal("TERM");
      int status = service.awaitExit(Duration.ofSeconds(30));

      String records = Files.readString(ServiceProcess.records(dir));
      for (CompletableFuture<RawHttp.Response> r : responses) {
        RawHttp.Response response = r.get(10, TimeUnit.SECONDS);
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.connectionClose()).isTrue();
        assertThat(records).contains(new JsonObject(response.body()).getString("id"));
      }
      assertThat(status).isZero();
      String log = service.output();
      assertThat(log)
          .contains("shutdown began (SIGTERM)")
          .contains("drained http in")
          .contains("stopped http in")
          .contains("stopped worker in")
          .contains("stopped store in")
          .contains("shutdown complete in")
          .contains("20 requests drained, 0 aborted; exit 0")
          .doesNotContain("\tat ");
      assertThat(log.indexOf("stopped http")).isLessThan(log.indexOf("stopped worker"));
      assertThat(log.indexOf("stopped worker")).isLessThan(log.indexOf("stopped store"));
    }
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void sigintAlsoShutsDownGracefully(int instances) throws Exception {
    try (ServiceProcess service = ServiceProcess.start(dir, instances(instances))) {
      service.port();
      service.signal("INT");
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
      assertThat(service.output())
          .contains("shutdown began (SIGINT)")
          .doesNotContain("ignored: the parent process");
    }
  }

  @Test
  void aSignalInheritedAsIgnoredIsNamedInAWarningAtStartup() throws Exception {
    // What a shell does to a job started with & from a script: SIGINT ignored, inherited by exec.
    List<String> ignoringInt = List.of("env", "--ignore-signal=INT");
    List<String> args = new ArrayList<>(List.of("-ea"));
    args.addAll(ServiceProcess.testMain());
    try (ServiceProcess service = ServiceProcess.java(ignoringInt, args, dir, Map.of())) {
      service.port();
      assertThat(service.output())
          .contains("WARNING [shutdown] SIGINT ignored: the parent process started this one")
          .contains("start it with env --default-signal=INT")
          .doesNotContain("SIGTERM ignored");
      // SIGTERM still works, and is the signal the warning leaves to stop it with.
      service.signal("TERM");
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
    }
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void aSecondSignalDuringShutdownExitsAtOnceWith130(int instances) throws Exception {
    try (ServiceProcess service = ServiceProcess.start(dir, instances(instances))) {
      int port = service.port();
      List<CompletableFuture<RawHttp.Response>> responses = inFlight(port, "/job?ms=20000", 2);
      awaitJobsStarted(service, 2);
      service.signal("TERM");
      service.awaitLine(l -> l.contains("shutdown began")).get(10, TimeUnit.SECONDS);
      long sent = System.nanoTime();

      service.signal("INT");
      int status = service.awaitExit(Duration.ofSeconds(10));

      long tookMs = TimeUnit.NANOSECONDS.toMillis(service.exitNanos() - sent);
      assertThat(status).isEqualTo(130);
      assertThat(tookMs).as("exit after the second signal").isLessThan(2_000);
      assertThat(service.output()).contains("SIGINT received during shutdown: exiting now");
      for (CompletableFuture<RawHttp.Response> r : responses) {
        try {
          r.get(10, TimeUnit.SECONDS);
          throw new AssertionError("a request in flight was answered after a forced exit");
        } catch (ExecutionException expected) {
          assertThat(expected.getCause()).isInstanceOf(RuntimeException.class);
        }
      }
    }
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void theWholeShutdownFitsTheDeadlineWithoutAStackTrace(int instances) throws Exception {
    int delayMs = 200;
    int timeoutMs = 1000;
    try (ServiceProcess service =
        ServiceProcess.start(
            dir,
            Map.of(
                "HTTP_INSTANCES", Integer.toString(instances),
                "SHUTDOWN_DELAY_MS", Integer.toString(delayMs),
                "SHUTDOWN_TIMEOUT_MS", Integer.toString(timeoutMs)))) {
      int port = service.port();
      List<CompletableFuture<RawHttp.Response>> responses = inFlight(port, "/job?ms=5000", 3);
      awaitJobsStarted(service, 3);

      long sent = service.sigterm();
      int status = service.awaitExit(Duration.ofSeconds(10));

      long tookMs = TimeUnit.NANOSECONDS.toMillis(service.exitNanos() - sent);
      assertThat(status).isEqualTo(1);
      assertThat(tookMs).isLessThanOrEqualTo(delayMs + timeoutMs + 500);
      for (CompletableFuture<RawHttp.Response> r : responses) {
        assertThat(r.get(10, TimeUnit.SECONDS).status()).isEqualTo(503);
      }
      String log = service.output();
      assertThat(log)
          .contains("0 requests drained, 3 aborted; exit 1")
          .contains("WARNING [lifecycle] worker did not stop within")
          .doesNotContain("\tat ")
          .doesNotContain("SEVERE");
    }
  }

  @Test
  void aSignalWhileAComponentStartsStopsTheStartedOnesOnceItHasStarted() throws Exception {
    Path gate = dir.resolve("gate");
    try (ServiceProcess service =
        ServiceProcess.start(dir, Map.of("START_GATE_PATH", gate.toString()))) {
      service
          .awaitLine(l -> l.contains("gate starts once its file exists"))
          .get(20, TimeUnit.SECONDS);
      service.signal("TERM");
      service
          .awaitLine(l -> l.contains("shutdown began (SIGTERM) during start-up"))
          .get(20, TimeUnit.SECONDS);
      Files.createFile(gate);

      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
      String log = service.output();
      assertThat(log)
          .contains(
              "before serving: no further component starts; waiting at most 29000 ms for gate")
          .contains("stopped gate in")
          .contains("stopped store in")
          .contains("shutdown complete in")
          .contains("stopped before serving; exit 0")
          .doesNotContain("stopped worker")
          .doesNotContain("listening on")
          .doesNotContain("\tat ");
      assertThat(log.indexOf("stopped gate")).isLessThan(log.indexOf("stopped store"));
    }
  }

  @Test
  void aSignalWhileAComponentNeverFinishesStartingExitsOneWithinTheDeadline() throws Exception {
    int timeoutMs = 1000;
    try (ServiceProcess service =
        ServiceProcess.start(
            dir,
            Map.of(
                "START_GATE_PATH",
                dir.resolve("never").toString(),
                "SHUTDOWN_TIMEOUT_MS",
                Integer.toString(timeoutMs)))) {
      service
          .awaitLine(l -> l.contains("gate starts once its file exists"))
          .get(20, TimeUnit.SECONDS);

      long sent = service.sigterm();
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isEqualTo(1);

      // No pre-stop delay: nothing listened, so no balancer has to learn anything.
      assertThat(TimeUnit.NANOSECONDS.toMillis(service.exitNanos() - sent))
          .isLessThan(timeoutMs + 500);
      assertThat(service.output())
          // The reserve, a fifth of the timeout, is the started components' to stop in.
          .contains("gate did not finish starting within " + timeoutMs * 4 / 5 + " ms")
          .contains("stopped store in")
          // Its start's failure would be handed to a loop Vert.x's close shuts down.
          .contains("not closing Vert.x: gate is still starting")
          .contains("stopped before serving; exit 1")
          .doesNotContain("listening on")
          .doesNotContain("\tat ");
    }
  }

  @Test
  void moreHttpInstancesThanVertxsDefaultEventLoopsGetAnEventLoopEach() throws Exception {
    // One processor: Vert.x's default pool is two event loops, whatever the machine has.
    try (ServiceProcess service =
        ServiceProcess.start(dir, instances(3), List.of("-XX:ActiveProcessorCount=1"))) {
      Set<String> loops = new HashSet<>();
      for (int i = 0; i < 3; i++) {
        try (RawHttp conn = new RawHttp("127.0.0.1", service.port(), 10_000)) {
          loops.add(conn.get("/loop").body());
        }
      }
      assertThat(loops).hasSize(3);
      assertThat(service.output()).contains("with 3 event loops");
      service.signal("TERM");
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
    }
  }

  @Test
  void itStartsWithoutAConfigFileWhenTheEnvironmentHasEveryKey() throws Exception {
    Map<String, String> env =
        Map.of(
            "SHUTDOWN_DELAY_MS", "0",
            "SHUTDOWN_TIMEOUT_MS", "1000",
            "SHUTDOWN_IDLE_MS", "100");
    try (ServiceProcess service = ServiceProcess.javaIn(dir, ServiceProcess.testMain(), dir, env)) {
      try (RawHttp conn = new RawHttp("127.0.0.1", service.port(), 10_000)) {
        assertThat(conn.get("/hello").status()).isEqualTo(200);
      }
      service.signal("TERM");
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
    }
  }

  @Test
  void aTakenPortExitsNonZeroWithAClearMessage() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        ServiceProcess service =
            ServiceProcess.start(
                dir, Map.of("HTTP_PORT", Integer.toString(taken.getLocalPort())))) {
      assertThat(service.awaitExit(Duration.ofSeconds(20))).isEqualTo(2);
      assertThat(service.output())
          .contains("startup failed: http: cannot listen on 127.0.0.1:" + taken.getLocalPort())
          .doesNotContain("\tat ");
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"SHUTDOWN_TIMEOUT_MS=soon", "HTTP_INSTANCES=0", "HTTP_INSTANCES=257"})
  void badConfigurationExitsNonZeroNamingTheKey(String setting) throws Exception {
    String[] kv = setting.split("=");
    try (ServiceProcess service = ServiceProcess.start(dir, Map.of(kv[0], kv[1]))) {
      assertThat(service.awaitExit(Duration.ofSeconds(20))).isEqualTo(2);
      assertThat(service.output())
          .contains("startup failed: invalid " + setting + ": expected an integer")
          .doesNotContain("\tat ");
    }
  }
}
