package com.example.service;

import com.example.service.lifecycle.Application;
import com.example.service.lifecycle.Component;
import com.example.service.lifecycle.Config;
import com.example.service.lifecycle.EventStreamRoute;
import com.example.service.lifecycle.Responses;
import com.example.service.lifecycle.WebSocketRoute;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.web.Router;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * The application the lifecycle's tests run, so that they need nothing from {@code example/}:
 * {@code GET /hello}, {@code GET /peer} (the local and the remote port), {@code GET /loop} (the
 * thread that answered), and {@code GET /job?ms=N}, which a stand-in "worker" component runs on a
 * timer and a stand-in "store" component records to {@code RECORD_PATH} before the client gets the
 * job's id; {@code /ws}, an echoing WebSocket, and {@code /events}, an event stream ticking every
 * 100 ms, through the lifecycle's helpers. Tests may mount routes of their own in front.
 */
final class TestApplication implements Application {

  static final Config.Key<Path> RECORD_PATH = Config.path("RECORD_PATH");

  /** If set, a "gate" component between the store and the worker starts once this file exists. */
  static final Config.Key<Path> START_GATE_PATH = Config.path("START_GATE_PATH").orElse(null);

  private final BiConsumer<Vertx, Router> extraRoutes;
  private final Consumer<HealthChecks> extraChecks;
  private final List<Component> extraComponents;

  TestApplication() {
    this((vertx, router) -> {});
  }

  TestApplication(BiConsumer<Vertx, Router> extraRoutes) {
    this(extraRoutes, checks -> {}, List.of());
  }

  /** With routes mounted in front of its own, readiness checks and components after its own. */
  TestApplication(
      BiConsumer<Vertx, Router> extraRoutes,
      Consumer<HealthChecks> extraChecks,
      List<Component> extraComponents) {
    this.extraRoutes = extraRoutes;
    this.extraChecks = extraChecks;
    this.extraComponents = extraComponents;
  }

  @Override
  public void readinessChecks(Vertx vertx, HealthChecks checks, Config config) {
    extraChecks.accept(checks);
  }

  @Override
  public List<Config.Key<?>> keys() {
    return List.of(RECORD_PATH, START_GATE_PATH);
  }

  @Override
  public List<Component> components(Config config) {
    List<Component> components = new ArrayList<>();
    components.add(
        new Component("store", new Store(config.get(RECORD_PATH)), ThreadingModel.WORKER));
    Path gate = config.get(START_GATE_PATH);
    if (gate != null) {
      components.add(new Component("gate", new Gate(gate), ThreadingModel.EVENT_LOOP));
    }
    components.add(new Component("worker", new Worker(), ThreadingModel.EVENT_LOOP));
    components.addAll(extraComponents);
    return components;
  }

  @Override
  public void routes(Vertx vertx, Router router, Config config) {
    extraRoutes.accept(vertx, router);
    router.get("/hello").handler(ctx -> ctx.end("hello"));
    router.get("/loop").handler(ctx -> ctx.end(Thread.currentThread().getName()));
    router
        .get("/bytes")
        .handler(
            ctx -> ctx.end(Buffer.buffer(new byte[Integer.parseInt(ctx.queryParam("n").get(0))])));
    // Which listener and which client connection answered: the local and the remote port.
    router
        .get("/peer")
        .handler(
            ctx ->
                ctx.end(
                    ctx.request().localAddress().port()
                        + " "
                        + ctx.request().remoteAddress().port()));
    router
        .post("/upload")
        .handler(
            ctx ->
                ctx.request()
                    .body()
                    .onSuccess(body -> ctx.end("received " + body.length()))
                    .onFailure(err -> ctx.fail(400)));
    // Answers at once, reading none of the body: the client may go on sending it.
    router.post("/early").handler(ctx -> ctx.end("early"));
    router
        .get("/ws")
        .handler(WebSocketRoute.create(ws -> ws.textMessageHandler(ws::writeTextMessage)));
    router
        .get("/events")
        .handler(
            EventStreamRoute.create(
                stream -> {
                  long timer = vertx.setPeriodic(100, id -> stream.send("tick", "{}"));
                  stream.endHandler(v -> vertx.cancelTimer(timer));
                }));
    router
        .get("/job")
        .handler(
            ctx -> {
              long ms = Long.parseLong(ctx.request().getParam("ms", "0"));
              JsonObject job = new JsonObject().put("id", UUID.randomUUID().toString());
              Responses.reply(
                  ctx,
                  vertx
                      .eventBus()
                      .<JsonObject>request(
                          Worker.ADDRESS,
                          job.put("ms", ms),
                          new DeliveryOptions().setSendTimeout(60_000))
                      .map(Message::body));
            });
  }

  /** Waits {@code ms}, has the store record the job, then replies; its stop finishes its jobs. */
  static final class Worker extends VerticleBase {
    static final String ADDRESS = "test.worker";
    private static final Logger LOG = Logger.getLogger("test.worker");
    private final Set<Future<?>> jobs = new HashSet<>();

    @Override
    public Future<?> start() {
      return vertx.eventBus().<JsonObject>consumer(ADDRESS, this::run).completion();
    }

    private void run(Message<JsonObject> job) {
      long ms = job.body().getLong("ms");
      Future<?> done =
          (ms == 0 ? Future.succeededFuture() : vertx.timer(ms))
              .compose(v -> vertx.eventBus().request(Store.ADDRESS, job.body()))
              .onSuccess(v -> job.reply(job.body()))
              .onFailure(err -> job.fail(500, err.getMessage()));
      jobs.add(done);
      LOG.info("jobs in progress: " + jobs.size());
      done.onComplete(v -> jobs.remove(done));
    }

    @Override
    public Future<?> stop() {
      return Future.join(List.copyOf(jobs));
    }
  }

  /** Starts once its file exists: a component whose start lasts as long as a test wants. */
  static final class Gate extends VerticleBase {
    private static final Logger LOG = Logger.getLogger("test.gate");
    private final Path path;

    Gate(Path path) {
      this.path = path;
    }

    @Override
    public Future<?> start() {
      LOG.info("gate starts once its file exists");
      Promise<Void> open = Promise.promise();
      vertx.setPeriodic(
          10,
          timer -> {
            if (Files.exists(path)) {
              vertx.cancelTimer(timer);
              open.tryComplete();
            }
          });
      return open.future();
    }
  }

  /** Appends each job's id to a file, as a line, before acknowledging it. */
  static final class Store extends VerticleBase {
    static final String ADDRESS = "test.store";
    private final Path path;

    Store(Path path) {
      this.path = path;
    }

    @Override
    public Future<?> start() {
      return vertx.eventBus().<JsonObject>consumer(ADDRESS, this::record).completion();
    }

    private void record(Message<JsonObject> job) {
      try {
        Files.writeString(
            path,
            job.body().getString("id") + "\n",
            StandardCharsets.UTF_8,
            StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
        job.reply(null);
      } catch (IOException e) {
        job.fail(500, e.getMessage());
      }
    }
  }
}
