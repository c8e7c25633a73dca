package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.example.service.lifecycle.Application;
import com.example.service.lifecycle.Component;
import com.example.service.lifecycle.Config;
import com.example.service.lifecycle.LifecycleOptions;
import com.example.service.lifecycle.Service;
import com.example.service.lifecycle.internal.Deadline;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The shutdown sequence in-process, over real sockets, with one and with four HTTP event loops,
 * against {@link TestApplication}.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class InProcessShutdownIT {

  @TempDir Path dir;

  /** The test's own client threads: the common pool's size would follow the core count. */
  private final ExecutorService clients = Executors.newFixedThreadPool(16);

  private Service service;
  private int port;

  /** Keys a test sets on top of those {@link #start} sets. */
  private final JsonObject overrides = new JsonObject();

  /** Readiness checks a test adds to the application's. */
  private Consumer<HealthChecks> checks = c -> {};

  /** Components a test adds after the application's. */
  private List<Component> components = List.of();

  @AfterEach
  void stopClients() {
    clients.shutdownNow();
  }

  /** Starts {@link TestApplication} with {@code routes} mounted in front of its own. */
  private Service start(
      Vertx vertx,
      int instances,
      long delayMs,
      long timeoutMs,
      long idleMs,
      BiConsumer<Vertx, Router> routes) {
    Application application = new TestApplication(routes, checks, components);
    JsonObject json =
        new JsonObject()
            .put("HTTP_HOST", "127.0.0.1")
            .put("HTTP_PORT", 0)
            .put("HTTP_INSTANCES", instances)
            .put("SHUTDOWN_DELAY_MS", delayMs)
            .put("SHUTDOWN_TIMEOUT_MS", timeoutMs)
            .put("SHUTDOWN_IDLE_MS", idleMs)
            .put("RECORD_PATH", ServiceProcess.records(dir).toString())
            .mergeIn(overrides);
    service =
        Service.start(vertx, application, Config.from(json, LifecycleOptions.keysWith(application)))
            .await();
    port = service.httpPort();
    return service;
  }

  /** {@code GET /slow}: counts {@code arrived} down, then answers "done" 300 ms later. */
  private static BiConsumer<Vertx, Router> slowRoute(CountDownLatch arrived) {
    return (v, router) ->
        router
            .get("/slow")
            .handler(
                ctx -> {
                  arrived.countDown();
                  v.setTimer(300, id -> ctx.end("done"));
                });
  }

  private RawHttp connect() throws Exception {
    return new RawHttp("127.0.0.1", port, 10_000);
  }

  /** Sends {@code path} on a new connection from one of the test's client threads. */
  private CompletableFuture<RawHttp.Response> getAsync(String path) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (RawHttp c = connect()) {
            return c.get(path);
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        },
        clients);
  }

  /**
   * Starts the shutdown and returns once every event loop has begun it, so the test's next request
   * is sent after that; the future completes with the exit status.
   */
  private CompletableFuture<Integer> shutdownInBackground() {
    CompletableFuture<Integer> status =
        service.shutdown("test").toCompletionStage().toCompletableFuture();
    service.shutdownBegun().await();
    return status;
  }

  /** {@code GET path} on {@code conn} is answered 200, told to close, and then closed. */
  private static void assertAnsweredThenClosed(RawHttp conn, String path) throws Exception {
    RawHttp.Response response = conn.get(path);
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.connectionClose()).isTrue();
    assertThat(conn.closedByServer()).isTrue();
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void connectionsAreSpreadOverTheEventLoops(int instances, Vertx vertx) throws Exception {
    start(
        vertx,
        instances,
        0,
        5_000,
        1_000,
        (v, router) ->
            router.get("/thread").handler(ctx -> ctx.end(Thread.currentThread().getName())));
    Set<String> threads = new HashSet<>();
    List<RawHttp> open = new ArrayList<>();
    for (int i = 0; i < 4 * instances; i++) {
      RawHttp conn = connect();
      open.add(conn);
      threads.add(conn.get("/thread").body());
    }
    for (RawHttp conn : open) {
      conn.close();
    }
    assertThat(threads).hasSize(instances).allMatch(t -> t.startsWith("vert.x-eventloop-thread-"));
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void inFlightRequestsFinishAndTheirConnectionsStayUsable(int instances, Vertx vertx)
      throws Exception {
    CountDownLatch arrived = new CountDownLatch(5);
    start(vertx, instances, 0, 10_000, 1_000, slowRoute(arrived));
    List<CompletableFuture<Boolean>> answered = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      answered.add(
          CompletableFuture.supplyAsync(
              () -> {
                try (RawHttp conn = connect()) {
                  RawHttp.Response slow = conn.get("/slow");
                  assertThat(slow.status()).isEqualTo(200);
                  assertThat(slow.body()).isEqualTo("done");
                  if (slow.connectionClose()) {
                    return conn.closedByServer();
                  }
                  // Not told to close: the connection must take the client's next request.
                  assertAnsweredThenClosed(conn, "/hello");
                  return true;
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
              },
              clients));
    }
    assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();

    int status = service.shutdown("test").await();

    for (CompletableFuture<Boolean> c : answered) {
      assertThat(c.get(10, TimeUnit.SECONDS)).as("closed by the server at the end").isTrue();
    }
    assertThat(status).isEqualTo(Service.EXIT_OK);
    assertThat(service.state().result().drained()).isGreaterThanOrEqualTo(5);
    assertThat(service.state().result().aborted()).isZero();
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void readinessFailsAndResponsesCloseTheirConnectionDuringTheDelay(int instances, Vertx vertx)
      throws Exception {
    start(vertx, instances, 500, 5_000, 1_000, (v, router) -> {});
    try (RawHttp before = connect()) {
      RawHttp.Response ready = before.get("/health/ready");
      assertThat(ready.status()).isEqualTo(200);
      assertThat(ready.body()).contains("\"outcome\":\"UP\"");
      assertThat(ready.connectionClose()).isFalse();
      assertThat(before.get("/hello").connectionClose()).isFalse();
    }

    CompletableFuture<Integer> status = shutdownInBackground();

    // The listener is still open during the delay: new connections are served, and told to leave.
    try (RawHttp during = connect()) {
      RawHttp.Response ready = during.get("/health/ready");
      assertThat(ready.status()).isEqualTo(503);
      assertThat(ready.body()).contains("\"outcome\":\"DOWN\"").contains("shutdown");
      assertThat(ready.connectionClose()).isTrue();
      assertThat(during.closedByServer()).isTrue();
    }
    try (RawHttp during = connect()) {
      assertAnsweredThenClosed(during, "/hello");
    }
    assertThat(status.get(10, TimeUnit.SECONDS)).isEqualTo(Service.EXIT_OK);
    assertThat(service.state().result().drained()).isEqualTo(2);
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1})
  void onceShutdownBeganReadinessAnswersWithoutWaitingOnTheApplicationsChecks(
      int instances, Vertx vertx) throws Exception {
    // A check that answers only when the test lets it, and gives up after a minute.
    List<Promise<Status>> waiting = new CopyOnWriteArrayList<>();
    checks = c -> c.register("slow", 60_000, waiting::add);
    start(vertx, instances, 2_000, 5_000, 1_000, (v, router) -> {});
    CompletableFuture<Integer> status = shutdownInBackground();
    try (RawHttp during = connect()) {
      // RawHttp gives up after 10 s: waiting on the slow check, this would fail.
      RawHttp.Response ready = during.get("/health/ready");
      assertThat(ready.status()).isEqualTo(503);
      assertThat(ready.body()).contains("shutdown").doesNotContain("slow");
    }
    waiting.forEach(p -> p.tryComplete(Status.OK()));
    assertThat(status.get(10, TimeUnit.SECONDS)).isEqualTo(Service.EXIT_OK);
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void aRequestOnAnIdleConnectionDuringTheDrainIsAnsweredAfterTheListenerClosed(
      int instances, Vertx vertx) throws Exception {
    start(vertx, instances, 0, 5_000, 3_000, (v, router) -> {});
    try (RawHttp conn = connect()) {
      assertThat(conn.get("/hello").connectionClose()).isFalse();

      CompletableFuture<Integer> status = shutdownInBackground();

      // Vert.x's own shutdown would have closed this idle connection and dropped this request.
      // The drain holds it until the socket is closed, so the reconnect its answer invites is
      // refused before anything is sent.
      assertAnsweredThenClosed(conn, "/hello");
      assertThatThrownBy(this::connect).isInstanceOf(ConnectException.class);
      assertThat(status.get(10, TimeUnit.SECONDS)).isEqualTo(Service.EXIT_OK);
      assertThat(service.state().result().drained()).isEqualTo(1);
    }
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void aResponseStreamedSinceBeforeShutdownLeavesItsConnectionUsable(int instances, Vertx vertx)
      throws Exception {
    CountDownLatch headSent = new CountDownLatch(1);
    start(
        vertx,
        instances,
        0,
        5_000,
        3_000,
        (v, router) ->
            router
                .get("/stream")
                .handler(
                    ctx -> {
                      ctx.response().setChunked(true).write("part1,");
                      headSent.countDown();
                      v.setTimer(300, id -> ctx.response().end("part2"));
                    }));
    try (RawHttp conn = connect()) {
      conn.send("/stream");
      assertThat(headSent.await(10, TimeUnit.SECONDS)).isTrue();

      CompletableFuture<Integer> status = shutdownInBackground();

      // Its head went out before shutdown began, so it could not say Connection: close; the
      // connection must not be closed under the client, who may send its next request on it.
      RawHttp.Response streamed = conn.read();
      assertThat(streamed.status()).isEqualTo(200);
      assertThat(streamed.body()).isEqualTo("part1,part2");
      assertThat(streamed.connectionClose()).isFalse();
      assertAnsweredThenClosed(conn, "/hello");
      assertThat(status.get(10, TimeUnit.SECONDS)).isEqualTo(Service.EXIT_OK);
    }
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void anIdleConnectionIsClosedAfterTheIdleGrace(int instances, Vertx vertx) throws Exception {
    start(vertx, instances, 0, 10_000, 200, (v, router) -> {});
    try (RawHttp conn = connect()) {
      assertThat(conn.get("/hello").status()).isEqualTo(200);
      long started = System.nanoTime();

      int status = service.shutdown("test").await();

      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      assertThat(conn.closedByServer()).isTrue();
      assertThat(status).isEqualTo(Service.EXIT_OK);
      assertThat(tookMs).isGreaterThanOrEqualTo(150).isLessThan(5_000);
    }
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void theDeadlineAnswers503ToARequestStillWaiting(int instances, Vertx vertx) throws Exception {
    CountDownLatch arrived = new CountDownLatch(1);
    start(
        vertx,
        instances,
        0,
        300,
        1_000,
        (v, router) -> router.get("/stuck").handler(ctx -> arrived.countDown()));
    CompletableFuture<RawHttp.Response> stuck = getAsync("/stuck");
    assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();

    int status = service.shutdown("test").await();

    RawHttp.Response response = stuck.get(10, TimeUnit.SECONDS);
    assertThat(response.status()).isEqualTo(503);
    assertThat(response.headers()).containsEntry("retry-after", "1");
    assertThat(response.connectionClose()).isTrue();
    assertThat(status).isEqualTo(Service.EXIT_INCOMPLETE);
    assertThat(service.state().result().aborted()).isEqualTo(1);
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void jobsInFlightSucceedBecauseTheComponentsOutliveTheDrain(int instances, Vertx vertx)
      throws Exception {
    int jobs = 10;
    CountDownLatch arrived = new CountDownLatch(jobs);
    start(
        vertx,
        instances,
        0,
        10_000,
        1_000,
        (v, router) ->
            router
                .get("/job")
                .handler(
                    ctx -> {
                      arrived.countDown();
                      ctx.next();
                    }));
    List<CompletableFuture<RawHttp.Response>> responses = new ArrayList<>();
    for (int i = 0; i < jobs; i++) {
      responses.add(getAsync("/job?ms=400"));
    }
    assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();

    int status = service.shutdown("test").await();

    String records = Files.readString(ServiceProcess.records(dir));
    for (CompletableFuture<RawHttp.Response> r : responses) {
      RawHttp.Response response = r.get(10, TimeUnit.SECONDS);
      assertThat(response.status()).isEqualTo(200);
      assertThat(records).contains(new JsonObject(response.body()).getString("id"));
    }
    assertThat(records.lines()).hasSize(jobs);
    assertThat(status).isEqualTo(Service.EXIT_OK);
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1})
  void unknownPathsWrongMethodsAndFailuresGetShortJsonErrors(int instances, Vertx vertx)
      throws Exception {
    start(
        vertx,
        instances,
        0,
        1_000,
        1_000,
        (v, router) ->
            router
                .get("/boom")
                .handler(
                    ctx -> {
                      throw new IllegalStateException("boom");
                    }));
    try (RawHttp conn = connect()) {
      RawHttp.Response missing = conn.get("/nope");
      assertThat(missing.status()).isEqualTo(404);
      assertThat(missing.body()).isEqualTo("{\"error\":\"not found\"}");
      RawHttp.Response failed = conn.get("/boom");
      assertThat(failed.status()).isEqualTo(500);
      assertThat(failed.body()).isEqualTo("{\"error\":\"internal server error\"}");
    }
    assertDeleteIsAJson405("/hello");
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1})
  void aRoutes413OverHttp2CarriesNoConnectionHeader(int instances, Vertx vertx) throws Exception {
    // As BodyHandler fails a body that declared no length and grew past its limit.
    start(
        vertx,
        instances,
        0,
        1_000,
        1_000,
        (v, router) -> router.get("/too-large").handler(ctx -> ctx.fail(413)));
    // Netty's client, as RFC 9113 §8.2.2 asks, takes a response with one for malformed.
    try (H2Client h2 = new H2Client("127.0.0.1", port)) {
      H2Client.Response response = h2.get("/too-large").get(5, TimeUnit.SECONDS);
      assertThat(response.status()).isEqualTo(413);
      assertThat(response.body()).startsWith("{\"error\":\"request body larger than");
    }
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1})
  void headOnAnEventStreamIsAnsweredAndTheConnectionServesOn(int instances, Vertx vertx)
      throws Exception {
    start(vertx, instances, 0, 5_000, 1_000, (v, router) -> {});
    try (RawHttp conn = connect()) {
      conn.send("/events", "HEAD");
      RawHttp.Response head = conn.readHead();
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.headers()).containsEntry("content-type", "text/event-stream");
      // Behind a stream that never ended, this would wait for the shutdown.
      assertThat(conn.get("/hello").body()).isEqualTo("hello");
    }
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1})
  void aPlainRequestToAWebSocketRouteGetsTheTemplatesJsonError(int instances, Vertx vertx)
      throws Exception {
    start(vertx, instances, 0, 5_000, 1_000, (v, router) -> {});
    try (RawHttp conn = connect()) {
      RawHttp.Response plain = conn.get("/ws");
      assertThat(plain.status()).isEqualTo(400);
      assertThat(plain.body()).isEqualTo("{\"error\":\"a WebSocket upgrade request is expected\"}");
    }
  }

  @Test
  void manyComponentsThatNeverStopStillFitTheDeadline(Vertx vertx) throws Exception {
    // Started last, stopped first: the first is given up at the deadline, then the rest.
    List<Component> hung = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      hung.add(
          new Component(
              "hung" + i,
              new VerticleBase() {
                @Override
                public Future<?> stop() {
                  return Promise.promise().future(); // never completes
                }
              },
              ThreadingModel.EVENT_LOOP));
    }
    components = hung;
    start(vertx, 1, 0, 1_000, 1_000, (v, router) -> {});
    long began = System.nanoTime();
    int status = service.shutdown("test").await();
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
    // The seven after the first, and the application's own, share what the margin allows.
    assertThat(status).isEqualTo(Service.EXIT_INCOMPLETE);
    assertThat(tookMs).isLessThanOrEqualTo(1_000 + Deadline.MARGIN_MS);
  }

  private void assertDeleteIsAJson405(String path) throws Exception {
    try (RawHttp conn = connect()) {
      conn.send(path, "DELETE");
      RawHttp.Response wrongMethod = conn.read();
      assertThat(wrongMethod.status()).isEqualTo(405);
      assertThat(wrongMethod.body()).isEqualTo("{\"error\":\"method not allowed\"}");
    }
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1})
  void anApplicationsCatchAllRouteDoesNotShadowTheProbes(int instances, Vertx vertx)
      throws Exception {
    start(
        vertx,
        instances,
        0,
        1_000,
        1_000,
        (v, router) -> router.route().handler(ctx -> ctx.end("app")));
    try (RawHttp conn = connect()) {
      assertThat(conn.get("/health/live").body()).isEqualTo("{\"status\":\"UP\"}");
      assertThat(conn.get("/health/ready").status()).isEqualTo(200);
      assertThat(conn.get("/anything").body()).isEqualTo("app");
      // Metrics are off here: /metrics is the application's like any other path.
      assertThat(conn.get("/metrics").body()).isEqualTo("app");
      // The path decides: whatever the query, and in an absolute-form target too.
      assertThat(conn.get("/health/live?verbose").body()).isEqualTo("{\"status\":\"UP\"}");
      assertThat(conn.get("http://127.0.0.1:" + port + "/health/live").body())
          .isEqualTo("{\"status\":\"UP\"}");
      assertThat(conn.get("/health/lively").body()).isEqualTo("app");
    }
    try (H2Client h2 = new H2Client("127.0.0.1", port)) {
      assertThat(h2.get("/health/live?verbose").get(5, TimeUnit.SECONDS).body())
          .isEqualTo("{\"status\":\"UP\"}");
      assertThat(h2.get("/health/lively").get(5, TimeUnit.SECONDS).body()).isEqualTo("app");
    }
    // Their router answers errors as the application's does.
    assertDeleteIsAJson405("/health/live");
  }

  @Test
  void anHttp2ResponsesCloseHandlerRunsWhenItsStreamCloses(Vertx vertx) throws Exception {
    CompletableFuture<Void> closed = new CompletableFuture<>();
    start(
        vertx,
        1,
        0,
        5_000,
        100,
        (v, router) ->
            router
                .get("/closing")
                .handler(
                    ctx -> {
                      ctx.response().closeHandler(x -> closed.complete(null));
                      ctx.end("bye");
                    }));
    try (H2Client h2 = new H2Client("127.0.0.1", port)) {
      assertThat(h2.get("/closing").get(5, TimeUnit.SECONDS).body()).isEqualTo("bye");
      // Vert.x hears of the close from the listener whose place the timeouts' listener takes.
      closed.get(5, TimeUnit.SECONDS);
    }
    assertThat(service.shutdown("test").await()).isZero();
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void http2DrainsWithTwoGoAwaysAndServesAStreamOpenedBetweenThem(int instances, Vertx vertx)
      throws Exception {
    CountDownLatch arrived = new CountDownLatch(1);
    start(vertx, instances, 0, 10_000, 1_000, slowRoute(arrived));
    try (H2Client h2 = new H2Client("127.0.0.1", port)) {
      assertThat(h2.get("/hello").get(5, TimeUnit.SECONDS).status()).isEqualTo(200);
      CompletableFuture<H2Client.Response> slow = h2.get("/slow");
      assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();
      // Opened as the first GOAWAY is read, so it is on the wire before the PING's ack.
      CompletableFuture<Integer> betweenId = new CompletableFuture<>();
      CompletableFuture<CompletableFuture<H2Client.Response>> between = new CompletableFuture<>();
      h2.onGoAway(
          g -> {
            if (!between.isDone()) {
              between.complete(h2.get("/hello", betweenId));
            }
          });

      CompletableFuture<Integer> status =
          service.shutdown("test").toCompletionStage().toCompletableFuture();

      H2Client.GoAway first = h2.goAway(0).get(10, TimeUnit.SECONDS);
      assertThat(first.lastStreamId()).isEqualTo(Integer.MAX_VALUE);
      assertThat(first.errorCode()).isZero();
      H2Client.GoAway second = h2.goAway(1).get(10, TimeUnit.SECONDS);
      assertThat(second.errorCode()).isZero();
      assertThat(second.lastStreamId()).isEqualTo(betweenId.get(5, TimeUnit.SECONDS));

      H2Client.Response answered = between.get(5, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
      assertThat(answered.status()).isEqualTo(200);
      assertThat(answered.body()).isEqualTo("hello");
      assertThat(slow.get(10, TimeUnit.SECONDS).body()).isEqualTo("done");
      h2.closed().get(10, TimeUnit.SECONDS);
      assertThat(status.get(10, TimeUnit.SECONDS)).isEqualTo(Service.EXIT_OK);
      assertThat(h2.goAways()).hasSize(2);
      assertThat(service.state().result().drained()).isEqualTo(2);
      assertThat(service.state().result().aborted()).isZero();
    }
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void theJdkClientsH2cUpgradeIsServedInHttp11AndItsRequestInFlightDrains(
      int instances, Vertx vertx) throws Exception {
    CountDownLatch arrived = new CountDownLatch(1);
    start(vertx, instances, 0, 10_000, 1_000, slowRoute(arrived));
    // Its defaults prefer HTTP/2 and ask for it with Upgrade: h2c on http:// URLs.
    java.net.http.HttpClient jdk = java.net.http.HttpClient.newBuilder().executor(clients).build();
    CompletableFuture<HttpResponse<String>> slow =
        jdk.sendAsync(request("/slow"), HttpResponse.BodyHandlers.ofString());
    assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();

    int status = service.shutdown("test").await();

    HttpResponse<String> answered = slow.get(10, TimeUnit.SECONDS);
    assertThat(answered.version()).isEqualTo(java.net.http.HttpClient.Version.HTTP_1_1);
    assertThat(answered.body()).isEqualTo("done");
    assertThat(status).isEqualTo(Service.EXIT_OK);
    assertThat(service.state().result().drained()).isEqualTo(1);
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void withHttp2UpgradeAnH2cUpgradeIsServedOverHttp2(int instances, Vertx vertx) throws Exception {
    overrides.put("HTTP2_UPGRADE", true);
    start(vertx, instances, 0, 10_000, 1_000, (v, router) -> {});
    // No stream is in flight at the shutdown: before JDK 24 this client fails those on any
    // GOAWAY (JDK-8335181). H2Client checks the drain of HTTP/2 streams above.
    java.net.http.HttpClient jdk = java.net.http.HttpClient.newBuilder().executor(clients).build();
    for (int i = 0; i < 3; i++) { // the upgrade request, then streams on the upgraded connection
      HttpResponse<String> hello =
          jdk.send(request("/hello"), HttpResponse.BodyHandlers.ofString());
      assertThat(hello.version()).isEqualTo(java.net.http.HttpClient.Version.HTTP_2);
      assertThat(hello.statusCode()).isEqualTo(200);
      assertThat(hello.body()).isEqualTo("hello");
    }
    assertThat(service.shutdown("test").await()).isEqualTo(Service.EXIT_OK);
    assertThat(service.state().result().aborted()).isZero();
  }

  private HttpRequest request(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build();
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1})
  void anUpgradeRequestWithBadHttp2SettingsIsServedInHttp11(int instances, Vertx vertx)
      throws Exception {
    overrides.put("HTTP2_UPGRADE", true);
    start(vertx, instances, 0, 10_000, 1_000, (v, router) -> {});
    try (RawHttp conn = connect()) {
      conn.write(
          "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
              + "Upgrade: h2c\r\nHTTP2-Settings: not*base64\r\n\r\n");
      RawHttp.Response response = conn.read();
      assertThat(response.statusLine()).startsWith("HTTP/1.1 200");
      assertThat(response.body()).isEqualTo("hello");
    }
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void atTheDeadlineHttp2StreamsGet503OrAreReset(int instances, Vertx vertx) throws Exception {
    CountDownLatch arrived = new CountDownLatch(2);
    start(
        vertx,
        instances,
        0,
        300,
        1_000,
        (v, router) -> {
          router.get("/stuck").handler(ctx -> arrived.countDown());
          router
              .get("/streaming")
              .handler(
                  ctx -> {
                    ctx.response().setChunked(true).write("started");
                    arrived.countDown();
                  });
        });
    try (H2Client h2 = new H2Client("127.0.0.1", port)) {
      CompletableFuture<H2Client.Response> stuck = h2.get("/stuck");
      CompletableFuture<H2Client.Response> streaming = h2.get("/streaming");
      assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();

      int status = service.shutdown("test").await();

      H2Client.Response unanswered = stuck.get(10, TimeUnit.SECONDS);
      assertThat(unanswered.status()).isEqualTo(503);
      assertThat(unanswered.body()).isEqualTo("{\"error\":\"service is shutting down\"}");
      H2Client.Response cut = streaming.get(10, TimeUnit.SECONDS);
      assertThat(cut.resetCode()).as("RST_STREAM CANCEL: " + cut).isEqualTo(8L);
      h2.closed().get(10, TimeUnit.SECONDS);
      assertThat(status).isEqualTo(Service.EXIT_INCOMPLETE);
      assertThat(service.state().result().aborted()).isEqualTo(2);
    }
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void aWebSocketIsClosedWith1001AndCountsAsDrained(int instances, Vertx vertx) throws Exception {
    start(vertx, instances, 0, 10_000, 1_000, (v, router) -> {});
    Vertx client = Vertx.vertx();
    // Held to the end: Vert.x closes a client nothing references, even mid-connect.
    WebSocketClient webSockets = client.createWebSocketClient();
    try {
      WebSocket ws = webSockets.connect(port, "127.0.0.1", "/ws").await();
      CompletableFuture<String> echo = new CompletableFuture<>();
      CompletableFuture<Short> closeCode = new CompletableFuture<>();
      ws.textMessageHandler(echo::complete);
      ws.closeHandler(v -> closeCode.complete(ws.closeStatusCode()));
      ws.writeTextMessage("ping");
      assertThat(echo.get(5, TimeUnit.SECONDS)).isEqualTo("ping");

      int status = service.shutdown("test").await();

      assertThat(closeCode.get(5, TimeUnit.SECONDS)).isEqualTo((short) 1001);
      assertThat(ws.closeReason()).isEqualTo("going away");
      assertThat(status).isEqualTo(Service.EXIT_OK);
      assertThat(service.state().result().drained()).isEqualTo(1);
      assertThat(service.state().result().aborted()).isZero();
    } finally {
      webSockets.close().await();
      client.close().await();
    }
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void aWebSocketClientThatNeverAnswersTheCloseDoesNotHoldTheShutdown(int instances, Vertx vertx)
      throws Exception {
    start(vertx, instances, 0, 20_000, 1_000, (v, router) -> {});
    try (RawHttp conn = connect()) {
      assertThat(conn.upgradeToWebSocket("/ws").status()).isEqualTo(101);
      long start = System.nanoTime();

      // The client reads nothing more and never sends its close frame.
      int status = service.shutdown("test").await();

      long tookMs = (System.nanoTime() - start) / 1_000_000;
      assertThat(tookMs)
          .as("the close wait is SHUTDOWN_IDLE_MS, not the deadline")
          .isLessThan(5_000);
      assertThat(status).isEqualTo(Service.EXIT_OK);
      assertThat(service.state().result().drained()).isEqualTo(1);
      assertThat(service.state().result().aborted()).isZero();
    }
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void anEventStreamEndsWithAReconnectEvent(int instances, Vertx vertx) throws Exception {
    eventStreamEndsWithAReconnectEvent(vertx, instances, new HttpClientOptions());
  }

  /** Over HTTP/2 its stream opened while serving, where the drain finds it as it begins. */
  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void anEventStreamOverHttp2EndsWithAReconnectEvent(int instances, Vertx vertx) throws Exception {
    eventStreamEndsWithAReconnectEvent(
        vertx,
        instances,
        new HttpClientOptions()
            .setProtocolVersion(HttpVersion.HTTP_2)
            .setHttp2ClearTextUpgrade(false));
  }

  private void eventStreamEndsWithAReconnectEvent(
      Vertx vertx, int instances, HttpClientOptions options) throws Exception {
    start(vertx, instances, 0, 10_000, 1_000, (v, router) -> {});
    Vertx client = Vertx.vertx();
    // Held to the end: Vert.x closes a client nothing references, even mid-connect.
    HttpClient http = client.createHttpClient(options);
    try {
      HttpClientResponse response =
          http.request(HttpMethod.GET, port, "127.0.0.1", "/events")
              .compose(HttpClientRequest::send)
              .await();
      assertThat(response.version()).isEqualTo(options.getProtocolVersion());
      assertThat(response.getHeader("content-type")).isEqualTo("text/event-stream");
      StringBuilder body = new StringBuilder();
      CompletableFuture<Void> firstTick = new CompletableFuture<>();
      CompletableFuture<Void> ended = new CompletableFuture<>();
      response.handler(
          chunk -> {
            body.append(chunk.toString());
            if (body.indexOf("event: tick") >= 0) {
              firstTick.complete(null);
            }
          });
      response.end().onComplete(ar -> ended.complete(null));
      response.exceptionHandler(ended::completeExceptionally);
      firstTick.get(5, TimeUnit.SECONDS);

      int status = service.shutdown("test").await();

      ended.get(5, TimeUnit.SECONDS);
      assertThat(body.toString())
          .endsWith("event: reconnect\nretry: 1000\ndata: {\"reason\":\"shutting down\"}\n\n");
      assertThat(status).isEqualTo(Service.EXIT_OK);
      assertThat(service.state().result().drained()).isEqualTo(1);
      assertThat(service.state().result().aborted()).isZero();
    } finally {
      http.close().await();
      client.close().await();
    }
  }
}
