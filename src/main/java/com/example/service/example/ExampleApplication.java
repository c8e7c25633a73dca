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
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The example application: {@code GET /hello}; {@code POST /work} (and {@code GET /work?ms=N}) and
 * {@code GET /jobs/:id}, jobs committed to a database by the {@link JobStore} after the {@link
 * WorkerVerticle} has done them; the {@link Database} keys, and a readiness check that the database
 * answers; and two long-lived routes that drain: {@code /ws/echo}, a WebSocket that echoes text
 * frames, and {@code /events}, a server-sent event stream with one {@code tick} a second.
 */
public final class ExampleApplication implements Application {

  /** How long readiness waits for the database to answer. */
  private static final long PING_TIMEOUT_MS = 1000;

  /** Made by {@link #components}, asked by the routes and readiness. */
  private JobStore store;

  @Override
  public List<Config.Key<?>> keys() {
    return List.of(
        Database.DATABASE_URL,
        Database.DATABASE_USER,
        Database.DATABASE_PASSWORD,
        Database.DATABASE_POOL_SIZE);
  }

  /** The store first, so that it stops last: after the worker has committed its jobs. */
  @Override
  public List<Component> components(Config config) {
    store = new JobStore(Database.from(config));
    return List.of(
        new Component("store", store, ThreadingModel.EVENT_LOOP),
        new Component("worker", new WorkerVerticle(store), ThreadingModel.EVENT_LOOP));
  }

  @Override
  public void routes(Vertx vertx, Router router, Config config) {
    WorkHandler work = new WorkHandler(vertx, store);
    router.get("/hello").handler(new HelloHandler());
    router.get("/work").handler(work::get);
    router
        .post("/work")
        .consumes("application/json")
        .handler(BodyHandler.create(false).setBodyLimit(config.get(HttpLimits.HTTP_MAX_BODY_BYTES)))
        .handler(work::post);
    router.get("/jobs/:id").handler(work::find);
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
    checks.register(
        "database",
        p ->
            store
                .ping()
                .timeout(PING_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .onComplete(ok -> p.complete(Status.OK()), err -> p.complete(Status.KO())));
  }
}
