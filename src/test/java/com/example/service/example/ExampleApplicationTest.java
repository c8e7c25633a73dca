package com.example.service.example;

import static org.assertj.core.api.Assertions.assertThat;

import com.example.service.lifecycle.Config;
import com.example.service.lifecycle.LifecycleOptions;
import com.example.service.lifecycle.Service;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The example application's own behaviour: its routes, its journal, its config and readiness. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class ExampleApplicationTest {

  @TempDir Path dir;

  private static List<Config.Key<?>> keys() {
    return LifecycleOptions.keysWith(new ExampleApplication());
  }

  private Service start(Vertx vertx) {
    return start(vertx, dir.resolve("journal.jsonl").toString());
  }

  private Service start(Vertx vertx, String journal) {
    JsonObject json =
        new JsonObject()
            .put("HTTP_HOST", "127.0.0.1")
            .put("HTTP_PORT", 0)
            .put("HTTP_INSTANCES", 2)
            .put("SHUTDOWN_DELAY_MS", 0)
            .put("SHUTDOWN_TIMEOUT_MS", 5000)
            .put("SHUTDOWN_IDLE_MS", 200)
            .put("HTTP_MAX_BODY_BYTES", 64)
            .put("JOURNAL_PATH", journal);
    return Service.start(vertx, new ExampleApplication(), Config.from(json, keys())).await();
  }

  private final HttpClient http =
      HttpClient.newBuilder()
          .executor(java.util.concurrent.Executors.newFixedThreadPool(2))
          .build();

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String url, String contentType, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void postWorkTakesJsonAndAnswersEveryMistakeWithAJsonError(Vertx vertx) throws Exception {
    Service service = start(vertx);
    String work = "http://127.0.0.1:" + service.httpPort() + "/work";
    String json = "application/json";
    for (String bad :
        List.of(
            "",
            "{",
            "[1]",
            "{}",
            "{\"ms\": 1.5}",
            "{\"ms\": \"5\"}",
            "{\"ms\": -1}",
            "{\"ms\": 60001}")) {
      HttpResponse<String> response = post(work, json, bad);
      assertThat(response.statusCode()).as(bad).isEqualTo(400);
      assertThat(new JsonObject(response.body()).getString("error")).as(bad).isNotBlank();
    }
    HttpResponse<String> wrongType = post(work, "text/plain", "{\"ms\": 1}");
    assertThat(wrongType.statusCode()).isEqualTo(415);
    assertThat(new JsonObject(wrongType.body()).getString("error")).isNotBlank();
    HttpResponse<String> tooLarge =
        post(work, json, "{\"ms\": 1, \"pad\": \"" + "x".repeat(64) + "\"}");
    assertThat(tooLarge.statusCode()).isEqualTo(413);
    assertThat(new JsonObject(tooLarge.body()).getString("error")).isNotBlank();

    HttpResponse<String> ok = post(work, "application/json; charset=utf-8", "{\"ms\": 1}");
    assertThat(ok.statusCode()).isEqualTo(200);
    String id = new JsonObject(ok.body()).getString("id");
    assertThat(service.shutdown("test").await()).isEqualTo(Service.EXIT_OK);
    assertThat(Files.readString(dir.resolve("journal.jsonl"))).contains(id);
  }

  @Test
  void aJournalThatCannotWriteAnswers500AndLogsOneWarningWithItsCause(Vertx vertx)
      throws Exception {
    Path full = Path.of("/dev/full");
    Assumptions.assumeTrue(Files.isWritable(full), "needs Linux's /dev/full");
    List<LogRecord> records = new CopyOnWriteArrayList<>();
    Handler capture =
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            records.add(record);
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    Logger http = Logger.getLogger("http");
    http.addHandler(capture);
    try {
      Service service = start(vertx, full.toString());
      HttpResponse<String> failed = get("http://127.0.0.1:" + service.httpPort() + "/work?ms=0");
      assertThat(failed.statusCode()).isEqualTo(500);
      assertThat(new JsonObject(failed.body()).getString("error")).isNotBlank();
      assertThat(records).hasSize(1);
      LogRecord warning = records.get(0);
      assertThat(warning.getLevel()).isEqualTo(Level.WARNING);
      assertThat(warning.getMessage()).contains("GET /work").contains("No space left on device");
      assertThat(warning.getThrown()).as("one line, no stack trace").isNull();
      service.shutdown("test").await();
    } finally {
      http.removeHandler(capture);
    }
  }

  @Test
  void theShippedConfigFileIsValidAndHasEveryKey(Vertx vertx) {
    Config config = Config.load(vertx, keys(), new String[] {"conf/config.json"}).await();
    assertThat(config.get(LifecycleOptions.HTTP_PORT)).isEqualTo(8080);
    assertThat(config.get(ExampleApplication.JOURNAL_PATH))
        .isEqualTo(Path.of("data/journal.jsonl"));
  }

  @Test
  void workRejectsBadInputWith400AndJournalsWhatItAnswers(Vertx vertx) throws Exception {
    Service service = start(vertx);
    String base = "http://127.0.0.1:" + service.httpPort();
    for (String bad : List.of("", "?ms=", "?ms=-1", "?ms=60001", "?ms=abc", "?ms=1.5")) {
      HttpResponse<String> response = get(base + "/work" + bad);
      assertThat(response.statusCode()).as(bad).isEqualTo(400);
      assertThat(response.body()).contains("ms must be an integer from 0 to 60000");
    }
    HttpResponse<String> ok = get(base + "/work?ms=0");
    assertThat(ok.statusCode()).isEqualTo(200);
    String id = new JsonObject(ok.body()).getString("id");

    HttpResponse<String> ready = get(base + "/health/ready");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).contains("journal");

    assertThat(service.shutdown("test").await()).isEqualTo(Service.EXIT_OK);
    assertThat(Files.readString(dir.resolve("journal.jsonl"))).contains(id);
  }

  @Test
  void theWebSocketEchoesAndIsToldToGoAwayOnShutdown(Vertx vertx) throws Exception {
    Service service = start(vertx);
    CompletableFuture<String> echo = new CompletableFuture<>();
    CompletableFuture<Integer> closeCode = new CompletableFuture<>();
    WebSocket ws =
        http.newWebSocketBuilder()
            .buildAsync(
                URI.create("ws://127.0.0.1:" + service.httpPort() + "/ws/echo"),
                new WebSocket.Listener() {
                  @Override
                  public CompletionStage<?> onText(
                      WebSocket socket, CharSequence data, boolean last) {
                    echo.complete(data.toString());
                    return WebSocket.Listener.super.onText(socket, data, last);
                  }

                  @Override
                  public CompletionStage<?> onClose(WebSocket socket, int code, String reason) {
                    closeCode.complete(code);
                    return null; // the JDK answers the close frame
                  }
                })
            .get(5, TimeUnit.SECONDS);
    ws.sendText("hello", true);
    assertThat(echo.get(5, TimeUnit.SECONDS)).isEqualTo("hello");

    assertThat(service.shutdown("test").await()).isEqualTo(Service.EXIT_OK);

    assertThat(closeCode.get(5, TimeUnit.SECONDS)).isEqualTo(1001);
    assertThat(service.state().result().drained()).isEqualTo(1);
  }

  @Test
  void theEventStreamTicksAndEndsWithAReconnectEventOnShutdown(Vertx vertx) throws Exception {
    Service service = start(vertx);
    HttpResponse<Stream<String>> response =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.httpPort() + "/events"))
                .build(),
            HttpResponse.BodyHandlers.ofLines());
    assertThat(response.headers().firstValue("content-type")).hasValue("text/event-stream");
    Iterator<String> lines = response.body().iterator();
    while (!lines.next().equals("event: tick")) {
      // the stream's opening comment
    }
    assertThat(lines.next()).startsWith("data: {\"time\":");

    CompletableFuture<Integer> status =
        service.shutdown("test").toCompletionStage().toCompletableFuture();

    List<String> rest = new ArrayList<>();
    lines.forEachRemaining(rest::add);
    assertThat(String.join("\n", rest))
        .endsWith("event: reconnect\nretry: 1000\ndata: {\"reason\":\"shutting down\"}\n");
    assertThat(status.get(5, TimeUnit.SECONDS)).isEqualTo(Service.EXIT_OK);
  }
}
