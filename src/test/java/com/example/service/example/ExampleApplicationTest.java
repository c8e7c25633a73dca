package com.example.service.example;

import static org.assertj.core.api.Assertions.assertThat;

import com.example.service.LogCapture;
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
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The example application's own behaviour: its routes, its jobs in a real database (H2 and
 * PostgreSQL each), its idempotency keys, its config and readiness.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class ExampleApplicationTest {

  private static Postgres postgres;

  @TempDir Path dir;

  private final ExecutorService clients = Executors.newFixedThreadPool(4);
  private final HttpClient http = HttpClient.newBuilder().executor(clients).build();

  @BeforeAll
  static void startPostgres() throws Exception {
    postgres = Postgres.start();
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    postgres.close();
  }

  private static List<Config.Key<?>> keys() {
    return LifecycleOptions.keysWith(new ExampleApplication());
  }

  private TestDatabase database(String kind) throws Exception {
    return TestDatabase.of(kind, dir, postgres);
  }

  private Service start(Vertx vertx, TestDatabase db) {
    return start(vertx, config(db));
  }

  private static Service start(Vertx vertx, JsonObject json) {
    return Service.start(vertx, new ExampleApplication(), Config.from(json, keys())).await();
  }

  private static JsonObject config(TestDatabase db) {
    return new JsonObject()
        .put("HTTP_HOST", "127.0.0.1")
        .put("HTTP_PORT", 0)
        .put("HTTP_INSTANCES", 2)
        .put("SHUTDOWN_DELAY_MS", 0)
        .put("SHUTDOWN_TIMEOUT_MS", 5000)
        .put("SHUTDOWN_IDLE_MS", 200)
        .put("HTTP_MAX_BODY_BYTES", 64)
        .put("DATABASE_URL", db.url());
  }

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String url, String contentType, String body) throws Exception {
    return post(url, contentType, body, null);
  }

  private HttpResponse<String> post(String url, String contentType, String body, String key)
      throws Exception {
    return http.send(
        postRequest(url, contentType, body, key), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpRequest postRequest(String url, String contentType, String body, String key) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(url))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      request.header("Idempotency-Key", key);
    }
    return request.build();
  }

  private static String id(HttpResponse<String> response) {
    return new JsonObject(response.body()).getString("id");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"h2", "postgresql"})
  void postWorkCommitsTheJobAndAnswersEveryMistakeWithAJsonError(String kind, Vertx vertx)
      throws Exception {
    TestDatabase db = database(kind);
    Service service = start(vertx, db);
    String base = "http://127.0.0.1:" + service.httpPort();
    String work = base + "/work";
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
    HttpResponse<String> longKey = post(work, json, "{\"ms\": 1}", "k".repeat(256));
    assertThat(longKey.statusCode()).isEqualTo(400);
    assertThat(longKey.body()).contains("Idempotency-Key must be 1 to 255 characters");

    HttpResponse<String> created = post(work, "application/json; charset=utf-8", "{\"ms\": 1}");
    assertThat(created.statusCode()).isEqualTo(201);
    String id = id(created);
    HttpResponse<String> found = get(base + "/jobs/" + id);
    assertThat(found.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(found.body())).isEqualTo(new JsonObject().put("id", id).put("ms", 1));
    HttpResponse<String> missing = get(base + "/jobs/no-such-job");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(new JsonObject(missing.body()).getString("error")).isEqualTo("no job no-such-job");

    assertThat(service.shutdown("test").await()).isEqualTo(Service.EXIT_OK);
    assertThat(db.jobIds()).containsExactly(id);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"h2", "postgresql"})
  void aKeyedRequestMakesOneJobHoweverOftenAndWhereverItIsRepeated(String kind, Vertx vertx)
      throws Exception {
    TestDatabase db = database(kind);
    Service first = start(vertx, db);
    String work = "http://127.0.0.1:" + first.httpPort() + "/work";
    String json = "application/json";

    HttpResponse<String> created = post(work, json, "{\"ms\": 2}", "order-1");
    assertThat(created.statusCode()).isEqualTo(201);
    String id = id(created);
    // Concurrent repeats, on connections of their own: each finds the one job.
    List<CompletableFuture<HttpResponse<String>>> repeats = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      HttpClient own = HttpClient.newBuilder().executor(clients).build();
      repeats.add(
          own.sendAsync(
              postRequest(work, json, "{ \"ms\" : 2 }", "order-1"),
              HttpResponse.BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> repeat : repeats) {
      HttpResponse<String> response = repeat.get(10, TimeUnit.SECONDS);
      assertThat(response.statusCode()).isEqualTo(201);
      assertThat(id(response)).isEqualTo(id);
    }
    HttpResponse<String> otherBody = post(work, json, "{\"ms\": 3}", "order-1");
    assertThat(otherBody.statusCode()).isEqualTo(422);
    assertThat(new JsonObject(otherBody.body()).getString("error"))
        .isEqualTo("Idempotency-Key was used with a different request");
    assertThat(first.shutdown("test").await()).isEqualTo(Service.EXIT_OK);

    // After a restart (the shutdown closed that Vert.x): the key is in the database.
    Vertx restarted = Vertx.vertx();
    Service second = start(restarted, db);
    HttpResponse<String> again =
        post("http://127.0.0.1:" + second.httpPort() + "/work", json, "{\"ms\": 2}", "order-1");
    assertThat(again.statusCode()).isEqualTo(201);
    assertThat(id(again)).isEqualTo(id);
    assertThat(second.shutdown("test").await()).isEqualTo(Service.EXIT_OK);
    assertThat(db.jobIds()).containsExactly(id);
  }

  @Test
  void aDatabaseThatGoesAwayFailsReadinessAndAnswers503UntilItIsBack(Vertx vertx) throws Exception {
    TestDatabase db = database("postgresql");
    LogCapture httpLog = LogCapture.of("http");
    List<LogRecord> records = httpLog.records();
    Service service = start(vertx, db);
    String base = "http://127.0.0.1:" + service.httpPort();
    try {
      assertThat(get(base + "/health/ready").statusCode()).isEqualTo(200);
      postgres.stop();

      HttpResponse<String> ready = get(base + "/health/ready");
      assertThat(ready.statusCode()).isEqualTo(503);
      assertThat(ready.body()).contains("{\"id\":\"database\",\"status\":\"DOWN\"}");
      HttpResponse<String> failed = post(base + "/work", "application/json", "{\"ms\": 0}");
      assertThat(failed.statusCode()).isEqualTo(503);
      assertThat(new JsonObject(failed.body()).getString("error")).isNotBlank();
      assertThat(records).hasSize(1);
      LogRecord warning = records.get(0);
      assertThat(warning.getLevel()).isEqualTo(Level.WARNING);
      assertThat(warning.getMessage()).contains("POST /work").contains("database unavailable");
      assertThat(warning.getThrown()).as("one line, no stack trace").isNull();
    } finally {
      postgres.restart();
      httpLog.close();
    }

    assertThat(get(base + "/health/ready").statusCode()).isEqualTo(200);
    HttpResponse<String> created = post(base + "/work", "application/json", "{\"ms\": 0}");
    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(service.shutdown("test").await()).isEqualTo(Service.EXIT_OK);
    assertThat(db.jobIds()).containsExactly(id(created));
  }

  @Test
  void theUserAndPasswordKeysOverrideTheUrls(Vertx vertx) throws Exception {
    String name = postgres.createDatabase();
    try (Connection c = postgres.connect(name);
        Statement s = c.createStatement()) {
      s.execute("CREATE ROLE app LOGIN PASSWORD 'app'");
      s.execute("GRANT ALL ON SCHEMA public TO app");
    }
    String url = postgres.url(name);
    Service service =
        start(
            vertx,
            config(new TestDatabase("postgresql", url, null))
                .put("DATABASE_URL", url.replace("postgres@", "nobody:wrong@"))
                .put("DATABASE_USER", "app")
                .put("DATABASE_PASSWORD", "app"));
    HttpResponse<String> created =
        post("http://127.0.0.1:" + service.httpPort() + "/work", "application/json", "{\"ms\": 0}");
    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(service.shutdown("test").await()).isEqualTo(Service.EXIT_OK);
    // The migration ran as that user too.
    assertThat(
            Postgres.column(
                postgres.connect(name),
                "SELECT tableowner FROM pg_tables WHERE tablename = 'jobs'"))
        .containsExactly("app");
  }

  @Test
  void theShippedConfigFileIsValidAndHasEveryKey(Vertx vertx) {
    Config config = Config.load(vertx, keys(), new String[] {"conf/config.json"}).await();
    assertThat(config.get(LifecycleOptions.HTTP_PORT)).isEqualTo(8080);
    assertThat(config.get(Database.DATABASE_URL)).isEqualTo("jdbc:h2:file:./data/jobs");
    assertThat(config.get(Database.DATABASE_POOL_SIZE)).isEqualTo(8);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"h2", "postgresql"})
  void getWorkRejectsBadInputWith400AndCommitsWhatItAnswers(String kind, Vertx vertx)
      throws Exception {
    TestDatabase db = database(kind);
    Service service = start(vertx, db);
    String base = "http://127.0.0.1:" + service.httpPort();
    for (String bad : List.of("", "?ms=", "?ms=-1", "?ms=60001", "?ms=abc", "?ms=1.5")) {
      HttpResponse<String> response = get(base + "/work" + bad);
      assertThat(response.statusCode()).as(bad).isEqualTo(400);
      assertThat(response.body()).contains("ms must be an integer from 0 to 60000");
    }
    HttpResponse<String> ok = get(base + "/work?ms=0");
    assertThat(ok.statusCode()).isEqualTo(200);
    String id = id(ok);

    HttpResponse<String> ready = get(base + "/health/ready");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).contains("{\"id\":\"database\",\"status\":\"UP\"}");

    assertThat(service.shutdown("test").await()).isEqualTo(Service.EXIT_OK);
    assertThat(db.jobIds()).containsExactly(id);
  }

  @Test
  void theWebSocketEchoesAndIsToldToGoAwayOnShutdown(Vertx vertx) throws Exception {
    Service service = start(vertx, database("h2"));
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
    Service service = start(vertx, database("h2"));
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
