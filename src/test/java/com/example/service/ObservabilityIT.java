package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What an operator reads: /metrics, JSON logs a shipper can parse, the access log. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ObservabilityIT {

  @TempDir Path dir;

  private final ExecutorService readers = Executors.newFixedThreadPool(24);

  @AfterEach
  void stopReaders() {
    readers.shutdownNow();
  }

  private static String scrape(int port) throws Exception {
    try (RawHttp conn = new RawHttp("127.0.0.1", port, 10_000)) {
      RawHttp.Response metrics = conn.get("/metrics");
      assertThat(metrics.status()).isEqualTo(200);
      assertThat(metrics.headers().get("content-type")).startsWith("text/plain");
      return metrics.body();
    }
  }

  @Test
  void metricsShowTheStandardSeriesAndTheShutdownsOwn() throws Exception {
    try (ServiceProcess service =
        ServiceProcess.start(
            dir, Map.of("METRICS_HTTP_REQUESTS", "true", "METRICS_GC_PAUSES", "true"))) {
      int port = service.port();
      try (RawHttp conn = new RawHttp("127.0.0.1", port, 10_000)) {
        assertThat(conn.get("/hello").status()).isEqualTo(200);
        assertThat(conn.get("/nope").status()).isEqualTo(404);
      }
      String metrics = scrape(port);
      assertThat(metrics)
          .contains("vertx_http_server_requests_total{")
          .contains("route=\"/hello\"")
          .contains("vertx_http_server_active_connections")
          .contains("jvm_memory_used_bytes")
          .contains("jvm_gc_collection_seconds_count{gc=")
          .contains("jvm_gc_max_data_size_bytes")
          .contains("jvm_gc_overhead")
          .contains("jvm_threads_live_threads")
          .contains("service_lifecycle_phase 0.0")
          .contains("service_http_requests_in_flight ")
          .contains("service_http_drained_requests_total 0.0")
          .contains("service_http_aborted_requests_total 0.0")
          .contains("service_http_connections_closed_by_drain_total 0.0")
          .contains("service_http_connections_retired_total 0.0");
      // A path no route matches is not a label of its own: a client cannot add series.
      assertThat(metrics).doesNotContain("/nope");
      // Two GET requests register vertx-micrometer's active-requests gauge twice, on purpose.
      assertThat(service.output()).doesNotContain("WARNING").doesNotContain("SEVERE");
    }
  }

  @Test
  void byDefaultMetricsAreTheJvmsAndTheShutdownsWithoutPerRequestOnes() throws Exception {
    try (ServiceProcess service = ServiceProcess.start(dir, Map.of())) {
      String metrics = scrape(service.port());
      assertThat(metrics)
          .contains("jvm_memory_used_bytes")
          // Each collector's count and time, read at the scrape; nothing listens to collections.
          .contains("jvm_gc_collection_seconds_count{gc=")
          .contains("jvm_gc_collection_seconds_sum{gc=")
          .doesNotContain("jvm_gc_max_data_size_bytes")
          .doesNotContain("jvm_gc_overhead")
          .contains("service_lifecycle_phase 0.0")
          .contains("service_lifecycle_delay_seconds NaN")
          .contains("service_lifecycle_delay_ended_quiet 0.0")
          .contains("service_http_connections 1.0")
          .doesNotContain("vertx_http_server_requests_total");
      assertThat(service.output()).doesNotContain("WARNING").doesNotContain("SEVERE");
    }
  }

  @Test
  void aScrapeDuringThePreStopDelayAnswersWithPhaseOneAndClosesItsConnection() throws Exception {
    try (ServiceProcess service = ServiceProcess.start(dir, Map.of("SHUTDOWN_DELAY_MS", "2000"))) {
      int port = service.port();
      service.sigterm();
      service.awaitLine(l -> l.contains("serving for")).get(10, TimeUnit.SECONDS);
      try (RawHttp conn = new RawHttp("127.0.0.1", port, 10_000)) {
        RawHttp.Response metrics = conn.get("/metrics");
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.connectionClose()).isTrue();
        assertThat(metrics.body()).contains("service_lifecycle_phase 1.0");
      }
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
    }
  }

  @Test
  void jsonLogsParseLineByLineAndTheSummaryCarriesItsNumbers() throws Exception {
    try (ServiceProcess service =
        ServiceProcess.start(dir, Map.of("LOG_FORMAT", "json", "ACCESS_LOG", "true"))) {
      int port = service.port();
      List<CompletableFuture<RawHttp.Response>> responses =
          RawHttp.inFlight(port, "/job?ms=2000", 20, readers);
      service.awaitLine(l -> l.contains("jobs in progress: 20")).get(20, TimeUnit.SECONDS);
      service.sigterm();
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
      for (CompletableFuture<RawHttp.Response> r : responses) {
        assertThat(r.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
      }

      List<JsonObject> lines = new ArrayList<>();
      for (String line : service.output().split("\n")) {
        lines.add(new JsonObject(line)); // every line, including the shutdown's, is one object
      }
      for (JsonObject line : lines) {
        assertThat(line.fieldNames()).contains("timestamp", "level", "logger", "message");
      }
      JsonObject summary =
          lines.stream()
              .filter(l -> l.getString("message").startsWith("shutdown complete"))
              .findFirst()
              .orElseThrow();
      assertThat(summary.getLong("drained")).isEqualTo(20);
      assertThat(summary.getLong("aborted")).isZero();
      assertThat(summary.getInteger("exit_status")).isZero();
      assertThat(summary.getLong("elapsed_ms")).isNotNull();
      JsonObject listening =
          lines.stream()
              .filter(l -> l.getString("message").startsWith("listening on"))
              .findFirst()
              .orElseThrow();
      assertThat(listening.getInteger("port")).isEqualTo(port);

      List<JsonObject> access =
          lines.stream().filter(l -> l.getString("logger").equals("access")).toList();
      assertThat(access).hasSize(20);
      for (JsonObject a : access) {
        assertThat(a.getString("method")).isEqualTo("GET");
        assertThat(a.getString("path")).isEqualTo("/job");
        assertThat(a.getInteger("status")).isEqualTo(200);
        assertThat(a.getDouble("duration_ms")).isGreaterThan(1000.0);
        assertThat(a.getString("phase")).isEqualTo("DRAINING");
      }
    }
  }

  @Test
  void aBadConfigurationIsOneJsonLineWhenTheEnvironmentAsksForJson() throws Exception {
    try (ServiceProcess service =
        ServiceProcess.start(dir, Map.of("LOG_FORMAT", "json", "HTTP_INSTANCES", "0"))) {
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isEqualTo(2);
      List<String> lines = service.output().lines().toList();
      assertThat(lines).hasSize(1);
      JsonObject line = new JsonObject(lines.get(0));
      assertThat(line.getString("level")).isEqualTo("SEVERE");
      assertThat(line.getString("message")).contains("HTTP_INSTANCES");
    }
  }

  @Test
  void metricsEnabledFalseTurnsItAllOff() throws Exception {
    try (ServiceProcess service = ServiceProcess.start(dir, Map.of("METRICS_ENABLED", "false"))) {
      try (RawHttp conn = new RawHttp("127.0.0.1", service.port(), 10_000)) {
        assertThat(conn.get("/metrics").status()).isEqualTo(404);
      }
    }
  }
}
