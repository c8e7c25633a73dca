package com.example.service.example;

import com.example.service.lifecycle.Responses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.UUID;

/**
 * {@code POST /work} with {@code {"ms": N}} (and {@code GET /work?ms=N}, a shortcut): hands a job
 * to the {@link WorkerVerticle} and answers {@code {"id": "...", "ms": N}} once the job is
 * committed; {@code GET /jobs/:id} reads one back.
 *
 * <p>A {@code POST} with an {@code Idempotency-Key} header is done once: every repeat with the same
 * key and body answers the first one's job, so a client that retries after a 503 or a cut
 * connection creates no second job; a repeat with another body is answered 422.
 *
 * <p>{@link #post} is the shape to copy for a route with a JSON body: the route declares {@code
 * consumes("application/json")} (vertx-web answers 415 otherwise) and a {@code BodyHandler} with
 * the body limit (413), and the handler answers 400 for a body it cannot use.
 */
final class WorkHandler {

  static final int MAX_MS = 60_000;

  /** The IETF httpapi draft's header. */
  static final String IDEMPOTENCY_KEY = "Idempotency-Key";

  static final int MAX_KEY_LENGTH = 255;

  private final Vertx vertx;
  private final JobStore store;

  WorkHandler(Vertx vertx, JobStore store) {
    this.vertx = vertx;
    this.store = store;
  }

  /** {@code GET /work?ms=N}: 200 with the job. */
  void get(RoutingContext ctx) {
    int ms = parseMs(ctx.request().getParam("ms"));
    if (ms < 0) {
      badMs(ctx);
      return;
    }
    submit(ctx, 200, new JsonObject().put("ms", ms));
  }

  /** {@code POST /work} with {@code {"ms": N}}, behind a {@code BodyHandler}: 201 with the job. */
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
    if (!(ms instanceof Integer || ms instanceof Long)
        || ((Number) ms).longValue() < 0
        || ((Number) ms).longValue() > MAX_MS) {
      badMs(ctx);
      return;
    }
    JsonObject job = new JsonObject().put("ms", ((Number) ms).intValue());
    String key = ctx.request().getHeader(IDEMPOTENCY_KEY);
    if (key != null) {
      if (key.isEmpty() || key.length() > MAX_KEY_LENGTH) {
        Responses.error(
            ctx.response(),
            400,
            IDEMPOTENCY_KEY + " must be 1 to " + MAX_KEY_LENGTH + " characters");
        return;
      }
      // The request as the job sees it, so that spacing or extra fields do not make it another.
      String hash = sha256(job.encode());
      job.put("key", key).put("hash", hash);
    }
    submit(ctx, 201, job);
  }

  /** {@code GET /jobs/:id}: 200 with the job, or 404. */
  void find(RoutingContext ctx) {
    Responses.reply(ctx, store.find(ctx.pathParam("id")));
  }

  private void submit(RoutingContext ctx, int status, JsonObject job) {
    String id = UUID.randomUUID().toString();
    job.put("id", id);
    // The event bus's default 30 s reply timeout would fail long jobs.
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(job.getInteger("ms") + 30_000L);
    Future<JsonObject> result =
        vertx
            .eventBus()
            .<JsonObject>request(WorkerVerticle.ADDRESS, job, delivery)
            .map(Message::body);
    // Answered without the job (the shutdown's deadline, or the client left): drop it if it has
    // not started to commit.
    ctx.addEndHandler(
        ended -> {
          if (!result.isComplete()) {
            vertx.eventBus().send(WorkerVerticle.CANCEL, id);
          }
        });
    Responses.reply(ctx, status, result);
  }

  private static void badMs(RoutingContext ctx) {
    Responses.error(ctx.response(), 400, "ms must be an integer from 0 to " + MAX_MS);
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

  private static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
