package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.example.service.lifecycle.Application;
import com.example.service.lifecycle.Config;
import com.example.service.lifecycle.LifecycleOptions;
import com.example.service.lifecycle.Responses;
import com.example.service.lifecycle.Service;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link Responses}: how a route's event-bus request is answered, whatever its component did, and
 * that nothing is written twice; and one message for the body limit, whatever the framing.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class ResponsesTest {

  private static final int MAX_BODY = 64;

  @TempDir Path dir;

  private final ExecutorService clientThreads = Executors.newFixedThreadPool(2);
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(clientThreads).build();
  private LogCapture logged;

  private String base;

  @BeforeEach
  void start(Vertx vertx) {
    logged = LogCapture.of("http");
    Application application = new TestApplication(ResponsesTest::routes);
    JsonObject json =
        new JsonObject()
            .put("HTTP_HOST", "127.0.0.1")
            .put("HTTP_PORT", 0)
            .put("HTTP_INSTANCES", 1)
            .put("HTTP_MAX_BODY_BYTES", MAX_BODY)
            .put("RECORD_PATH", dir.resolve("records.txt").toString());
    Service service =
        Service.start(vertx, application, Config.from(json, LifecycleOptions.keysWith(application)))
            .await();
    base = "http://127.0.0.1:" + service.httpPort();
  }

  @AfterEach
  void stop() {
    logged.close();
    clientThreads.shutdownNow();
  }

  /** {@code GET /bus/NAME} asks the component at {@code responses.NAME}, as a route would. */
  private static void routes(Vertx vertx, Router router) {
    vertx.eventBus().consumer("responses.ok", m -> m.reply(new JsonObject().put("ok", true)));
    vertx.eventBus().consumer("responses.refused", m -> m.fail(404, "no such item"));
    vertx.eventBus().consumer("responses.broken", m -> m.fail(500, "disk full"));
    vertx.eventBus().consumer("responses.odd", m -> m.fail(7, "odd code"));
    vertx.eventBus().consumer("responses.silent", m -> {});
    router
        .get("/bus/:name")
        .handler(
            ctx ->
                Responses.reply(
                    ctx,
                    vertx
                        .eventBus()
                        .request(
                            "responses." + ctx.pathParam("name"),
                            null,
                            new DeliveryOptions().setSendTimeout(200))
                        .map(Message::body)));
    router
        .get("/direct/refused")
        .handler(
            ctx ->
                Responses.reply(ctx, Future.failedFuture(new HttpException(404, "no such item"))));
    router
        .get("/direct/broken")
        .handler(
            ctx ->
                Responses.reply(
                    ctx,
                    Future.failedFuture(
                        new HttpException(503, "disk gone", new IOException("no device")))));
    router
        .get("/direct/forged")
        .handler(
            ctx ->
                Responses.reply(
                    ctx,
                    Future.failedFuture(
                        new HttpException(
                            500, "echoed\nSEVERE [lifecycle] forged\u2028" + "x".repeat(1000)))));
    router
        .get("/answered")
        .handler(
            ctx -> {
              ctx.end("first");
              // What a late result, a late failure and a late error do once a response has ended.
              Responses.reply(ctx, Future.succeededFuture(new JsonObject()));
              Responses.failure(ctx, new IllegalStateException("late"));
              Responses.error(ctx.response(), 503, "late");
            });
    router
        .post("/body")
        .handler(BodyHandler.create(false).setBodyLimit(MAX_BODY))
        .handler(ctx -> ctx.end("read"));
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(String path) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(base + path)));
  }

  private List<String> warnings() {
    return logged.records().stream()
        .filter(r -> r.getLevel().intValue() >= Level.WARNING.intValue())
        .map(LogRecord::getMessage)
        .toList();
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "ok, 200, , false",
    "refused, 404, no such item, false",
    "nobody, 503, service unavailable, true",
    "silent, 504, gateway timeout, true",
    "broken, 500, internal server error, true",
    "odd, 500, internal server error, true",
  })
  void anEventBusFailureIsAnsweredWithTheStatusItMeans(
      String name, int status, String error, boolean warned) throws Exception {
    HttpResponse<String> response = get("/bus/" + name);

    assertThat(response.statusCode()).isEqualTo(status);
    assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
    JsonObject body = new JsonObject(response.body());
    if (status == 200) {
      assertThat(body.getBoolean("ok")).isTrue();
    } else {
      assertThat(body.getString("error")).isEqualTo(error);
    }
    if (warned) {
      assertThat(warnings())
          .singleElement()
          .asString()
          .startsWith("request failed: GET /bus/" + name + ": ReplyException: ")
          .doesNotContain("\tat ");
    } else {
      assertThat(warnings()).isEmpty();
    }
  }

  @Test
  void aFutureFailedWithAnHttpExceptionIsAnsweredWithItsStatus() throws Exception {
    HttpResponse<String> refused = get("/direct/refused");
    assertThat(refused.statusCode()).isEqualTo(404);
    assertThat(new JsonObject(refused.body()).getString("error")).isEqualTo("no such item");
    assertThat(warnings()).isEmpty();

    HttpResponse<String> broken = get("/direct/broken");
    assertThat(broken.statusCode()).isEqualTo(503);
    assertThat(new JsonObject(broken.body()).getString("error")).isEqualTo("service unavailable");
    assertThat(warnings())
        .containsExactly(
            "request failed: GET /direct/broken: HttpException: disk gone <- IOException: no"
                + " device");
  }

  @Test
  void aFailuresTextInItsWarningIsOneShortLine() throws Exception {
    assertThat(get("/direct/forged").statusCode()).isEqualTo(500);
    assertThat(warnings())
        .singleElement()
        .asString()
        .startsWith(
            "request failed: GET /direct/forged: HttpException: echoed?SEVERE [lifecycle] forged?x")
        .doesNotContain("\n")
        .hasSizeLessThan(200);
  }

  @Test
  void nothingIsWrittenToAResponseThatHasEnded() throws Exception {
    HttpResponse<String> response = get("/answered");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("first");
    // The connection is still good for the next request: nothing stray was written on it.
    assertThat(get("/bus/ok").statusCode()).isEqualTo(200);
    assertThat(warnings()).isEmpty();
  }

  @Test
  void aBodyOverTheLimitGetsOneMessageWhetherDeclaredOrChunked() throws Exception {
    byte[] body = new byte[MAX_BODY + 1];
    URI uri = URI.create(base + "/body");
    HttpResponse<String> declared =
        send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    // An input stream has no length: the JDK client sends it chunked.
    HttpResponse<String> chunked =
        send(
            HttpRequest.newBuilder(uri)
                .POST(
                    HttpRequest.BodyPublishers.ofInputStream(
                        () -> new ByteArrayInputStream(body))));

    for (HttpResponse<String> response : List.of(declared, chunked)) {
      assertThat(response.statusCode()).isEqualTo(413);
      assertThat(new JsonObject(response.body()).getString("error"))
          .isEqualTo("request body larger than " + MAX_BODY + " bytes");
    }
  }
}
