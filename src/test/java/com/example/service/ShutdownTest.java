package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.example.service.example.ExampleRoutes;
import com.example.service.example.JournalVerticle;
import com.example.service.example.WorkerVerticle;
import com.example.service.lifecycle.HttpVerticle;
import com.example.service.lifecycle.Service;
import com.example.service.lifecycle.Service.Component;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The shutdown sequence in-process, over real sockets. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class ShutdownTest {

  @TempDir Path dir;

  private HttpVerticle http;
  private int port;

  private ServiceConfig config(long delayMs, long timeoutMs, long idleMs) {
    return new ServiceConfig(
        "127.0.0.1", 0, delayMs, timeoutMs, idleMs, dir.resolve("journal.jsonl"));
  }

  /** Starts the example service plus the test's own routes, mounted first. */
  private Service start(Vertx vertx, ServiceConfig config, BiConsumer<Vertx, Router> testRoutes) {
    http =
        new HttpVerticle(
            config,
            (v, router) -> {
              testRoutes.accept(v, router);
              ExampleRoutes.mount(v, router);
            });
    Service service =
        Service.start(
                vertx,
                config,
                List.of(
                    new Component(
                        "journal",
                        new JournalVerticle(config.journalPath()),
                        ThreadingModel.WORKER),
                    new Component("worker", new WorkerVerticle(), ThreadingModel.EVENT_LOOP)),
                http)
            .await();
    port = service.httpPort();
    return service;
  }

  private RawHttp connect() throws Exception {
    return new RawHttp("127.0.0.1", port, 10_000);
  }

  /** Sends {@code path} on a new connection from another thread. */
  private CompletableFuture<RawHttp.Response> getAsync(String path) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (RawHttp c = connect()) {
            return c.get(path);
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        });
  }

  /**
   * Starts the shutdown and returns once the drain has begun, so the test's next request is sent
   * after it; the future completes with the exit status.
   */
  private CompletableFuture<Integer> shutdownInBackground(Service service) {
    http.beginShutdown().await();
    return service.shutdown("test").toCompletionStage().toCompletableFuture();
  }

  /** {@code GET path} on {@code conn} is answered 200, told to close, and then closed. */
  private static void assertAnsweredThenClosed(RawHttp conn, String path) throws Exception {
    RawHttp.Response response = conn.get(path);
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.connectionClose()).isTrue();
    assertThat(conn.closedByServer()).isTrue();
  }

  @Test
  void inFlightRequestsFinishAndCarryConnectionClose(Vertx vertx) throws Exception {
    CountDownLatch arrived = new CountDownLatch(5);
    Service service =
        start(
            vertx,
            config(0, 10_000, 1_000),
            (v, router) ->
                router
                    .get("/slow")
                    .handler(
                        ctx -> {
                          arrived.countDown();
                          v.setTimer(300, id -> ctx.end("done"));
                        }));
    List<CompletableFuture<RawHttp.Response>> responses = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      responses.add(getAsync("/slow"));
    }
    assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();

    int status = service.shutdown("test").await();

    for (CompletableFuture<RawHttp.Response> r : responses) {
      RawHttp.Response response = r.get(10, TimeUnit.SECONDS);
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("done");
      assertThat(response.connectionClose()).isTrue();
    }
    assertThat(status).isEqualTo(Service.EXIT_OK);
    assertThat(http.drainResult().drained()).isEqualTo(5);
    assertThat(http.drainResult().aborted()).isZero();
  }

  @Test
  void readinessFailsAndResponsesCloseTheirConnectionDuringTheDelay(Vertx vertx) throws Exception {
    Service service = start(vertx, config(500, 5_000, 1_000), (v, router) -> {});
    try (RawHttp before = connect()) {
      RawHttp.Response ready = before.get("/health/ready");
      assertThat(ready.status()).isEqualTo(200);
      assertThat(ready.connectionClose()).isFalse();
      assertThat(before.get("/hello").connectionClose()).isFalse();
    }

    CompletableFuture<Integer> status = shutdownInBackground(service);

    // The listener is still open during the delay: new connections are served, and told to leave.
    try (RawHttp during = connect()) {
      RawHttp.Response ready = during.get("/health/ready");
      assertThat(ready.status()).isEqualTo(503);
      assertThat(ready.body()).contains("shutting down");
      assertThat(ready.connectionClose()).isTrue();
      assertThat(during.closedByServer()).isTrue();
    }
    try (RawHttp during = connect()) {
      assertAnsweredThenClosed(during, "/hello");
      assertThat(http.drainResult().drained()).isZero(); // counted once the drain ends
    }
    assertThat(status.get(10, TimeUnit.SECONDS)).isEqualTo(Service.EXIT_OK);
    assertThat(http.drainResult().drained()).isEqualTo(2);
  }

  @Test
  void aRequestSentOnAnIdleKeepAliveConnectionAfterShutdownBeganIsAnswered(Vertx vertx)
      throws Exception {
    Service service = start(vertx, config(0, 5_000, 3_000), (v, router) -> {});
    try (RawHttp conn = connect()) {
      assertThat(conn.get("/hello").connectionClose()).isFalse();

      CompletableFuture<Integer> status = shutdownInBackground(service);

      // Vert.x's own shutdown would have closed this idle connection and dropped this request.
      assertAnsweredThenClosed(conn, "/hello");
      assertThat(status.get(10, TimeUnit.SECONDS)).isEqualTo(Service.EXIT_OK);
    }
  }

  @Test
  void aResponseStreamedSinceBeforeShutdownLeavesItsConnectionUsable(Vertx vertx) throws Exception {
    CountDownLatch headSent = new CountDownLatch(1);
    Service service =
        start(
            vertx,
            config(0, 5_000, 3_000),
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

      CompletableFuture<Integer> status = shutdownInBackground(service);

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

  @Test
  void anIdleConnectionIsClosedAfterTheIdleGrace(Vertx vertx) throws Exception {
    Service service = start(vertx, config(0, 10_000, 200), (v, router) -> {});
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

  @Test
  void theDeadlineAnswers503ToARequestStillWaiting(Vertx vertx) throws Exception {
    CountDownLatch arrived = new CountDownLatch(1);
    Service service =
        start(
            vertx,
            config(0, 300, 1_000),
            (v, router) -> router.get("/stuck").handler(ctx -> arrived.countDown()));
    CompletableFuture<RawHttp.Response> stuck = getAsync("/stuck");
    assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();

    int status = service.shutdown("test").await();

    RawHttp.Response response = stuck.get(10, TimeUnit.SECONDS);
    assertThat(response.status()).isEqualTo(503);
    assertThat(response.headers()).containsEntry("retry-after", "1");
    assertThat(response.connectionClose()).isTrue();
    assertThat(status).isEqualTo(Service.EXIT_INCOMPLETE);
    assertThat(http.drainResult().aborted()).isEqualTo(1);
  }

  @Test
  void workInFlightSucceedsBecauseWorkerAndJournalOutliveTheDrain(Vertx vertx) throws Exception {
    int jobs = 10;
    CountDownLatch arrived = new CountDownLatch(jobs);
    ServiceConfig config = config(0, 10_000, 1_000);
    Service service =
        start(
            vertx,
            config,
            (v, router) ->
                router
                    .get("/work")
                    .handler(
                        ctx -> {
                          arrived.countDown();
                          ctx.next();
                        }));
    List<CompletableFuture<RawHttp.Response>> responses = new ArrayList<>();
    for (int i = 0; i < jobs; i++) {
      responses.add(getAsync("/work?ms=400"));
    }
    assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();

    int status = service.shutdown("test").await();

    String journal = Files.readString(config.journalPath());
    for (CompletableFuture<RawHttp.Response> r : responses) {
      RawHttp.Response response = r.get(10, TimeUnit.SECONDS);
      assertThat(response.status()).isEqualTo(200);
      String id = response.body().replaceAll(".*\"id\":\"([^\"]+)\".*", "$1");
      assertThat(journal).contains(id);
    }
    assertThat(journal.lines()).hasSize(jobs);
    assertThat(status).isEqualTo(Service.EXIT_OK);
  }

  @Test
  void unknownPathsWrongMethodsAndFailuresGetShortJsonErrors(Vertx vertx) throws Exception {
    start(
        vertx,
        config(0, 1_000, 1_000),
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
      assertThat(failed.body()).isEqualTo("{\"error\":\"internal error\"}");
    }
    try (RawHttp conn = connect()) {
      conn.send("/hello", "DELETE");
      RawHttp.Response wrongMethod = conn.read();
      assertThat(wrongMethod.status()).isEqualTo(405);
      assertThat(wrongMethod.body()).isEqualTo("{\"error\":\"method not allowed\"}");
    }
  }

  @Test
  void workRejectsBadInputWith400(Vertx vertx) throws Exception {
    start(vertx, config(0, 1_000, 1_000), (v, router) -> {});
    try (RawHttp conn = connect()) {
      for (String bad : List.of("", "?ms=", "?ms=-1", "?ms=60001", "?ms=abc", "?ms=1.5")) {
        RawHttp.Response response = conn.get("/work" + bad);
        assertThat(response.status()).as(bad).isEqualTo(400);
        assertThat(response.body()).contains("ms must be an integer from 0 to 60000");
      }
      RawHttp.Response ok = conn.get("/work?ms=0");
      assertThat(ok.status()).isEqualTo(200);
      assertThat(ok.body()).contains("\"ms\":0");
    }
  }
}
