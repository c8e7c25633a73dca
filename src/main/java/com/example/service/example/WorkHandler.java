package com.example.service.example;

import com.example.service.lifecycle.Responses;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;

/**
 * {@code GET /work?ms=N}: hands a job to the {@link WorkerVerticle} and answers {@code {"id":
 * "...", "ms": N}} once it is done and journaled.
 */
final class WorkHandler implements Handler<RoutingContext> {

  static final int MAX_MS = 60_000;

  private final Vertx vertx;

  WorkHandler(Vertx vertx) {
    this.vertx = vertx;
  }

  @Override
  public void handle(RoutingContext ctx) {
    int ms = parseMs(ctx.request().getParam("ms"));
    if (ms < 0) {
      Responses.error(ctx.response(), 400, "ms must be an integer from 0 to " + MAX_MS);
      return;
    }
    JsonObject job = new JsonObject().put("id", UUID.randomUUID().toString()).put("ms", ms);
    // The event bus's default 30 s reply timeout would fail long jobs.
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(ms + 30_000L);
    vertx
        .eventBus()
        .<JsonObject>request(WorkerVerticle.ADDRESS, job, delivery)
        .onSuccess(
            reply -> {
              // Shutdown may have answered 503 at its deadline already.
              if (!ctx.response().ended() && !ctx.response().closed()) {
                ctx.json(reply.body());
              }
            })
        .onFailure(err -> Responses.error(ctx.response(), status(err), "job failed"));
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

  private static int status(Throwable err) {
    boolean unavailable =
        err instanceof ReplyException reply && reply.failureType() == ReplyFailure.NO_HANDLERS;
    return unavailable ? 503 : 500;
  }
}
