package com.example.service.example;

import com.example.service.lifecycle.Application;
import com.example.service.lifecycle.Component;
import com.example.service.lifecycle.Config;
import com.example.service.lifecycle.EventStreamRoute;
import com.example.service.lifecycle.HttpLimits;
import com.example.service.lifecycle.WebSocketRoute;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * The example application: {@code GET /hello}, {@code GET /work?ms=N} and {@code POST /work}, a
 * {@link WorkerVerticle} and a {@link JournalVerticle}, the {@code JOURNAL_PATH} key, and a
 * readiness check that the journal is writable; and two long-lived routes that drain: {@code
 * /ws/echo}, a WebSocket that echoes text frames, and {@code /events}, a server-sent event stream
 * with one {@code tick} a second.
 */
public final class ExampleApplication implements Application {

  /** The file the journal appends completed jobs to; its folder is created. */
  public static final Config.Key<Path> JOURNAL_PATH = Config.path("JOURNAL_PATH");

  @Override
  public List<Config.Key<?>> keys() {
    return List.of(JOURNAL_PATH);
  }

  @Override
  public List<Component> components(Config config) {
    return List.of(
        new Component(
            "journal", new JournalVerticle(config.get(JOURNAL_PATH)), ThreadingModel.WORKER),
        new Component("worker", new WorkerVerticle(), ThreadingModel.EVENT_LOOP));
  }

  @Override
  public void routes(Vertx vertx, Router router, Config config) {
    WorkHandler work = new WorkHandler(vertx);
    router.get("/hello").handler(new HelloHandler());
    router.get("/work").handler(work::get);
    router
        .post("/work")
        .consumes("application/json")
        .handler(BodyHandler.create(false).setBodyLimit(config.get(HttpLimits.HTTP_MAX_BODY_BYTES)))
        .handler(work::post);
    router
        .get("/ws/echo")
        .handler(WebSocketRoute.create(ws -> ws.textMessageHandler(ws::writeTextMessage)));
    router
        .get("/events")
        .handler(
            EventStreamRoute.create(
                stream -> {
                  long timer =
                      vertx.setPeriodic(
                          1000,
                          id ->
                              stream.send(
                                  "tick",
                                  new JsonObject().put("time", Instant.now().toString()).encode()));
                  stream.endHandler(v -> vertx.cancelTimer(timer));
                }));
  }

  @Override
  public void readinessChecks(Vertx vertx, HealthChecks checks, Config config) {
    Path journal = config.get(JOURNAL_PATH);
    checks.register(
        "journal", p -> p.complete(Files.isWritable(journal) ? Status.OK() : Status.KO()));
  }
}
