package com.example.service.example;

import com.example.service.lifecycle.Responses;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;

/**
 * {@code GET /work?ms=N} and {@code POST /work} with {@code {"ms": N}}: hands a job to the {@link
 * WorkerVerticle} and answers {@code {"id": "...", "ms": N}} once it is done and journaled.
 *
 * <p>{@link #post} is the shape to copy for a route with a JSON body: the route declares {@code
 * consumes("application/json")} (vertx-web answers 415 otherwise) and a {@code BodyHandler} with
 * the body limit (413), and the handler answers 400 for a body it cannot use.
 */
final class WorkHandler {

  static final int MAX_MS = 60_000;

  private final Vertx vertx;

  WorkHandler(Vertx vertx) {
    this.vertx = vertx;
  }

  /** {@code GET /work?ms=N}. */
  void get(RoutingContext ctx) {
    submit(ctx, parseMs(ctx.request().getParam("ms")));
  }

  /** {@code POST /work} with {@code {"ms": N}}; behind a {@code BodyHandler}. */
  void post(RoutingContext ctx) {
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      body = null;
    }
    if (body == null) {
      Responses.error(ctx.response(), 400, "body must be a JSON object");
      return;
    }
    Object ms = body.getValue("ms");
    boolean integral = ms instanceof Integer || ms instanceof Long;
    submit(ctx, integral && ((Number) ms).longValue() <= MAX_MS ? ((Number) ms).intValue() : -1);
  }

  private void submit(RoutingContext ctx, int ms) {
    if (ms < 0) {
      Responses.error(ctx.response(), 400, "ms must be an integer from 0 to " + MAX_MS);
      return;
    }
    JsonObject job = new JsonObject().put("id", UUID.randomUUID().toString()).put("ms", ms);
    // The event bus's default 30 s reply timeout would fail long jobs.
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(ms + 30_000L);
    // A job fails only if the journal cannot write: a 500, logged with its cause.
    Responses.reply(
        ctx,
        vertx
            .eventBus()
            .<JsonObject>request(WorkerVerticle.ADDRESS, job, delivery)
            .map(Message::body));
  }

  private static int parseMs(String raw) {
    if (raw == null || raw.isEmpty() || raw.length() > 5) {
      return -1;
    }
    try {
      int ms = Integer.parseInt(raw);
      return ms <= MAX_MS ? ms : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
