package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * MANAGEMENT_PORT: the probes and the metrics on a listener of their own, not on the service port,
 * answering through the whole shutdown until the process exits.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ManagementPortIT {

  private static final Pattern MANAGEMENT = Pattern.compile("probes and metrics on [^ ]+:(\\d+)");

  @TempDir Path dir;

  @Test
  void probesAndMetricsAnswerThereAndNotOnTheServicePort() throws Exception {
    try (ServiceProcess service = ServiceProcess.start(dir, Map.of("MANAGEMENT_PORT", "0"))) {
      int port = service.port();
      int management = managementPort(service);
      assertThat(management).isNotEqualTo(port);
      for (String path : new String[] {"/health/live", "/health/ready", "/metrics"}) {
        assertThat(get(management, path).status())
            .as(path + " on the management port")
            .isEqualTo(200);
        RawHttp.Response onService = get(port, path);
        assertThat(onService.status()).as(path + " on the service port").isEqualTo(404);
        assertThat(onService.body()).contains("\"error\"");
      }
      assertThat(get(port, "/hello").status()).isEqualTo(200);
      assertThat(get(management, "/hello").status()).isEqualTo(404);
      assertThat(get(management, "/metrics").body()).contains("service_lifecycle_phase 0.0");
    }
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void theManagementPortAnswersThroughTheShutdownUntilTheProcessExits(int instances)
      throws Exception {
    try (ServiceProcess service =
        ServiceProcess.start(
            dir,
            Map.of(
                "MANAGEMENT_PORT", "0",
                "HTTP_INSTANCES", Integer.toString(instances),
                "SHUTDOWN_DELAY_MS", "500"))) {
      int port = service.port();
      int management = managementPort(service);
      ExecutorService executor = Executors.newSingleThreadExecutor();
      try (RawHttp slow = new RawHttp("127.0.0.1", port, 20_000)) {
        // A request in flight through the drain: the final counts must say it was drained.
        slow.send("/job?ms=1500");
        service.awaitLine(l -> l.contains("jobs in progress: 1")).get(10, TimeUnit.SECONDS);
        CompletableFuture<String> draining =
            service.awaitLine(l -> l.contains("closing the listener"));
        service.sigterm();
        draining.get(10, TimeUnit.SECONDS);
        RawHttp.Response ready = get(management, "/health/ready");
        assertThat(ready.status()).as("readiness during the drain").isEqualTo(503);
        assertThat(get(management, "/metrics").body()).contains("service_lifecycle_phase 2.0");

        // Scrape until the listener goes with the process: the last scrape has the final counts.
        Future<String> lastScrape =
            executor.submit(
                () -> {
                  String last = null;
                  while (true) {
                    try {
                      last = get(management, "/metrics").body();
                    } catch (IOException gone) {
                      return last;
                    }
                  }
                });
        assertThat(slow.read().status()).isEqualTo(200);
        assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
        assertThat(lastScrape.get(10, TimeUnit.SECONDS))
            .contains("service_http_drained_requests_total 1.0")
            .contains("service_http_aborted_requests_total 0.0");
      } finally {
        executor.shutdownNow();
      }
      assertThat(service.output()).doesNotContain("\tat ");
    }
  }

  @Test
  void anIdleTimeoutUnderASecondClosesAnIdleManagementConnection() throws Exception {
    try (ServiceProcess service =
        ServiceProcess.start(dir, Map.of("MANAGEMENT_PORT", "0", "HTTP_IDLE_TIMEOUT_MS", "300"))) {
      int management = managementPort(service);
      try (Socket idle = new Socket("127.0.0.1", management)) {
        idle.setSoTimeout(10_000);
        // Sends nothing: the server closes it (end of stream) long before the read gives up.
        assertThat(idle.getInputStream().read()).isEqualTo(-1);
      }
    }
  }

  @Test
  void aManagementPortThatIsTakenIsAStartupFailure() throws Exception {
    try (ServerSocket taken = new ServerSocket(0);
        ServiceProcess service =
            ServiceProcess.start(
                dir, Map.of("MANAGEMENT_PORT", Integer.toString(taken.getLocalPort())))) {
      assertThat(service.awaitExit(Duration.ofSeconds(20))).isEqualTo(2);
      assertThat(service.output())
          .contains(
              "startup failed: management: cannot listen on 127.0.0.1:" + taken.getLocalPort())
          .doesNotContain("\tat ");
    }
  }

  private static int managementPort(ServiceProcess service) throws Exception {
    Matcher m =
        MANAGEMENT.matcher(
            service.awaitLine(l -> MANAGEMENT.matcher(l).find()).get(20, TimeUnit.SECONDS));
    assertThat(m.find()).isTrue();
    return Integer.parseInt(m.group(1));
  }

  private static RawHttp.Response get(int port, String path) throws IOException {
    try (RawHttp conn = new RawHttp("127.0.0.1", port, 10_000)) {
      return conn.get(path);
    }
  }
}
