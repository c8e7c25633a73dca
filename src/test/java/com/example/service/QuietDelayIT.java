package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SHUTDOWN_QUIET_MS: the pre-stop delay ends once no request but probes and scrapes has come for
 * the quiet period, and lasts SHUTDOWN_DELAY_MS while traffic goes on.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class QuietDelayIT {

  private static final Pattern ENDED =
      Pattern.compile("pre-stop delay ended after (\\d+) ms: (traffic quiet|delay elapsed)");

  @TempDir Path dir;

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void aLoadThatStopsEndsTheDelayAQuietPeriodLater(int instances) throws Exception {
    try (ServiceProcess service = start(instances, 20_000, 500)) {
      LoadClient load = new LoadClient("127.0.0.1", service.port(), "/hello", 8);
      load.start();
      load.oks(400).get(20, TimeUnit.SECONDS);
      CompletableFuture<String> ended = service.awaitLine(l -> ENDED.matcher(l).find());
      long signalled = service.sigterm();
      // Traffic through part of the delay (its responses close their connections), then none.
      load.oks(load.total(LoadClient.Outcome.OK) + 400).get(20, TimeUnit.SECONDS);
      long stoppingMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - signalled);
      assertThat(ended).as("delay ended while the load went on").isNotDone();
      load.stop();

      Matcher m = ENDED.matcher(ended.get(20, TimeUnit.SECONDS));
      assertThat(m.find()).isTrue();
      assertThat(m.group(2)).isEqualTo("traffic quiet");
      // After the load stopped, and long before the 20 s.
      assertThat(Long.parseLong(m.group(1))).isBetween(Math.max(500, stoppingMs), 10_000L);
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
      assertThat(load.failures(false) + load.failures(true)).as("failed requests").isZero();
    }
  }

  @Test
  void trafficThatGoesOnHoldsTheDelayToItsLongest() throws Exception {
    try (ServiceProcess service = start(2, 2_000, 300)) {
      LoadClient load = new LoadClient("127.0.0.1", service.port(), "/hello", 2);
      load.start();
      load.oks(100).get(20, TimeUnit.SECONDS);
      CompletableFuture<String> ended = service.awaitLine(l -> ENDED.matcher(l).find());
      service.sigterm();
      String line = ended.get(20, TimeUnit.SECONDS);
      load.stop();

      Matcher m = ENDED.matcher(line);
      assertThat(m.find()).isTrue();
      assertThat(m.group(2)).isEqualTo("delay elapsed");
      assertThat(Long.parseLong(m.group(1))).isGreaterThanOrEqualTo(2_000);
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
      // Once the delay ended, the closed listener refuses connections: refused, not lost.
      assertThat(load.failures(false) + load.failures(true)).as("failed requests").isZero();
    }
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void probesAndScrapesDoNotHoldTheDelay(int instances) throws Exception {
    try (ServiceProcess service = start(instances, 20_000, 500)) {
      int port = service.port();
      CompletableFuture<String> ended = service.awaitLine(l -> ENDED.matcher(l).find());
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong answered = new AtomicLong();
      CompletableFuture<Void> probing = new CompletableFuture<>();
      ExecutorService prober = Executors.newSingleThreadExecutor();
      try {
        prober.submit(
            () -> {
              // A kubelet and a scraper: a new connection for each, readiness 503 in the delay.
              while (!stop.get()) {
                for (String path : new String[] {"/health/ready", "/health/live", "/metrics"}) {
                  try (RawHttp conn = new RawHttp("127.0.0.1", port, 5_000)) {
                    conn.get(path);
                    if (answered.incrementAndGet() == 30) {
                      probing.complete(null);
                    }
                  } catch (Exception listenerClosed) {
                    return null;
                  }
                }
              }
              return null;
            });
        probing.get(20, TimeUnit.SECONDS);
        service.sigterm();
        Matcher m = ENDED.matcher(ended.get(20, TimeUnit.SECONDS));
        assertThat(m.find()).isTrue();
        assertThat(m.group(2)).isEqualTo("traffic quiet");
        assertThat(Long.parseLong(m.group(1))).isBetween(500L, 10_000L);
      } finally {
        stop.set(true);
        prober.shutdownNow();
      }
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
    }
  }

  @Test
  void theMetricsSayHowLongTheDelayLastedAndWhatEndedIt() throws Exception {
    try (ServiceProcess service =
        ServiceProcess.start(
            dir,
            Map.of(
                "SHUTDOWN_DELAY_MS", "20000",
                "SHUTDOWN_QUIET_MS", "500",
                "SHUTDOWN_IDLE_MS", "10000"))) {
      // A connection opened before the signal and idle through the delay: its next request is
      // held by the drain and served once the listener is closed, after the delay.
      try (RawHttp conn = new RawHttp("127.0.0.1", service.port(), 10_000)) {
        CompletableFuture<String> ended = service.awaitLine(l -> ENDED.matcher(l).find());
        service.sigterm();
        Matcher m = ENDED.matcher(ended.get(20, TimeUnit.SECONDS));
        assertThat(m.find()).isTrue();
        RawHttp.Response metrics = conn.get("/metrics");
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.body())
            .contains("service_lifecycle_phase 2.0")
            .contains("service_lifecycle_delay_ended_quiet 1.0")
            // At least the quiet period, far from the longest.
            .containsPattern("service_lifecycle_delay_seconds (0\\.[5-9]|[1-9]\\.)");
      }
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
    }
  }

  @Test
  void withoutAQuietPeriodTheDelayIsFixed() throws Exception {
    try (ServiceProcess service = start(1, 1_000, 0)) {
      service.port();
      CompletableFuture<String> ended = service.awaitLine(l -> ENDED.matcher(l).find());
      service.sigterm();
      String line = ended.get(20, TimeUnit.SECONDS);
      Matcher m = ENDED.matcher(line);
      assertThat(m.find()).isTrue();
      assertThat(m.group(2)).isEqualTo("delay elapsed");
      assertThat(Long.parseLong(m.group(1))).isGreaterThanOrEqualTo(1_000);
      assertThat(line).doesNotContain("last request");
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
    }
  }

  @Test
  void aQuietPeriodLongerThanTheDelayIsABadConfiguration() throws Exception {
    try (ServiceProcess service =
        ServiceProcess.start(
            dir, Map.of("SHUTDOWN_DELAY_MS", "1000", "SHUTDOWN_QUIET_MS", "2000"))) {
      assertThat(service.awaitExit(Duration.ofSeconds(20))).isEqualTo(2);
      assertThat(service.output())
          .contains("startup failed: invalid SHUTDOWN_QUIET_MS=2000")
          .contains("SHUTDOWN_DELAY_MS=1000")
          .doesNotContain("\tat ");
    }
  }

  private ServiceProcess start(int instances, int delayMs, int quietMs) throws Exception {
    return ServiceProcess.start(
        dir,
        Map.of(
            "HTTP_INSTANCES", Integer.toString(instances),
            "SHUTDOWN_DELAY_MS", Integer.toString(delayMs),
            "SHUTDOWN_QUIET_MS", Integer.toString(quietMs)));
  }
}
