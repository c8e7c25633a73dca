package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * SIGTERM with a WebSocket or an event stream open on {@link TestApplication}'s {@code /ws} and
 * {@code /events}: the client is told to go (close 1001, a last {@code reconnect} event) and the
 * process exits 0; a WebSocket client that never answers the close holds the exit for the close
 * wait ({@code SHUTDOWN_IDLE_MS}), not the deadline.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StreamShutdownIT {

  @TempDir Path dir;

  private final Vertx client = Vertx.vertx();

  // Fields, not temporaries: Vert.x closes a client nothing references, even mid-connect.
  private final WebSocketClient webSockets = client.createWebSocketClient();
  private final HttpClient http = client.createHttpClient();

  @AfterEach
  void closeClient() {
    client.close().await();
  }

  private static Map<String, String> env(int instances, int delayMs) {
    return Map.of(
        "HTTP_INSTANCES", Integer.toString(instances),
        "SHUTDOWN_DELAY_MS", Integer.toString(delayMs));
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}, SHUTDOWN_DELAY_MS={1}")
  @CsvSource({"1, 0", "4, 1000"})
  void aWebSocketGets1001AndTheProcessExits0(int instances, int delayMs) throws Exception {
    try (ServiceProcess service = ServiceProcess.start(dir, env(instances, delayMs))) {
      WebSocket ws = webSockets.connect(service.port(), "127.0.0.1", "/ws").await();
      CompletableFuture<String> echo = new CompletableFuture<>();
      CompletableFuture<Short> closeCode = new CompletableFuture<>();
      ws.textMessageHandler(echo::complete);
      ws.closeHandler(v -> closeCode.complete(ws.closeStatusCode()));
      ws.writeTextMessage("ping");
      assertThat(echo.get(5, TimeUnit.SECONDS)).isEqualTo("ping");

      service.signal("TERM");

      assertThat(closeCode.get(10, TimeUnit.SECONDS)).isEqualTo((short) 1001);
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
      assertThat(service.output()).contains("1 request drained, 0 aborted; exit 0");
    }
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}, SHUTDOWN_DELAY_MS={1}")
  @CsvSource({"1, 0", "4, 1000"})
  void aWebSocketClientThatNeverAnswersDoesNotHoldTheExit(int instances, int delayMs)
      throws Exception {
    try (ServiceProcess service =
            ServiceProcess.start(
                dir,
                Map.of(
                    "HTTP_INSTANCES", Integer.toString(instances),
                    "SHUTDOWN_DELAY_MS", Integer.toString(delayMs),
                    "SHUTDOWN_TIMEOUT_MS", "20000"));
        RawHttp conn = new RawHttp("127.0.0.1", service.port(), 10_000)) {
      assertThat(conn.upgradeToWebSocket("/ws").status()).isEqualTo(101);

      // From here the client reads nothing and never sends its close frame.
      long signalled = service.sigterm();
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();

      long tookMs = TimeUnit.NANOSECONDS.toMillis(service.exitNanos() - signalled);
      // The close wait is SHUTDOWN_IDLE_MS (1 s in the test config), far below the 20 s deadline.
      assertThat(tookMs).isLessThan(delayMs + 5_000L);
    }
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}, SHUTDOWN_DELAY_MS={1}")
  @CsvSource({"1, 0", "4, 1000"})
  void anEventStreamGetsALastEventAndACleanEnd(int instances, int delayMs) throws Exception {
    try (ServiceProcess service = ServiceProcess.start(dir, env(instances, delayMs))) {
      HttpClientResponse response =
          http.request(HttpMethod.GET, service.port(), "127.0.0.1", "/events")
              .compose(HttpClientRequest::send)
              .await();
      StringBuilder body = new StringBuilder();
      CompletableFuture<Void> ticking = new CompletableFuture<>();
      CompletableFuture<Void> ended = new CompletableFuture<>();
      response.handler(
          chunk -> {
            body.append(chunk.toString());
            if (body.indexOf("event: tick") >= 0) {
              ticking.complete(null);
            }
          });
      response.exceptionHandler(ended::completeExceptionally);
      response.end().onSuccess(v -> ended.complete(null));
      ticking.get(5, TimeUnit.SECONDS);

      service.signal("TERM");

      ended.get(10, TimeUnit.SECONDS);
      assertThat(body.toString())
          .endsWith("event: reconnect\nretry: 1000\ndata: {\"reason\":\"shutting down\"}\n\n");
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
      assertThat(service.output()).contains("1 request drained, 0 aborted; exit 0");
    }
  }
}
