package com.example.service.lifecycle;

import io.vertx.core.Future;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;

/**
 * The one place responses of a route are written: {@code {"error": "..."}} with a status for a
 * failure, JSON for a result, and never to a response that is no longer there.
 *
 * <p>A route that asks a component over the event bus is one line: {@code Responses.reply(ctx,
 * vertx.eventBus().request(ADDRESS, body).map(Message::body))}. The component answers a request it
 * refuses with {@code message.fail(404, "no such item")}, and the client gets that 404.
 */
public final class Responses {

  private Responses() {}

  /**
   * Whether {@code response} can still be written: it has not ended (the shutdown may have answered
   * it 503 at its deadline) and its connection is not closed (the client left, or the deadline cut
   * it). A result that arrives after either has nobody to go to.
   */
  public static boolean writable(HttpServerResponse response) {
    return !response.ended() && !response.closed();
  }

  /**
   * Ends {@code response} with {@code status} and a short JSON message, unless it is no longer
   * {@link #writable}.
   *
   * @return the end's future: done once the response is written; failed if it was not writable
   */
  public static Future<Void> error(HttpServerResponse response, int status, String message) {
    if (!writable(response)) {
      return Future.failedFuture("the response is no longer writable");
    }
    return response
        .setStatusCode(status)
        .putHeader("content-type", "application/json")
        .end(new JsonObject().put("error", message).encode());
  }

  /**
   * Answers {@code result} once it completes: {@code 200} with its value as JSON ({@link
   * RoutingContext#json}), or the status {@link #failure} gives its failure. Nothing is written to
   * a response that is no longer {@link #writable}.
   */
  public static void reply(RoutingContext ctx, Future<?> result) {
    reply(ctx, 200, result);
  }

  /**
   * As {@link #reply(RoutingContext, Future)}, with {@code status} for a result: 201 for one made.
   */
  public static void reply(RoutingContext ctx, int status, Future<?> result) {
    result.onComplete(
        value -> {
          if (writable(ctx.response())) {
            ctx.response().setStatusCode(status);
            ctx.json(value);
          }
        },
        err -> failure(ctx, err));
  }

  /**
   * Answers a failed request to a component, as the client should see it:
   *
   * <ul>
   *   <li>no component listens at the address (not deployed, or already stopped): {@code 503};
   *   <li>no reply within the request's timeout ({@code DeliveryOptions.setSendTimeout}, 30 s by
   *       default): {@code 504};
   *   <li>the component refused it with {@code message.fail(code, text)}, or a future of its failed
   *       with vertx-web's {@code HttpException(code, text)}: that status if {@code code} is from
   *       400 to 599, with {@code text} for a 4xx (written for the client) and the status's reason
   *       for a 5xx (written for the operator);
   *   <li>anything else: {@code 500}.
   * </ul>
   *
   * Every 5xx is logged as one WARNING line with the request and the failure's causes, and no stack
   * trace. Nothing is written to a response that is no longer {@link #writable}.
   */
  public static void failure(RoutingContext ctx, Throwable err) {
    if (!writable(ctx.response())) {
      return;
    }
    int status = 500;
    if (err instanceof HttpException http) {
      status =
          http.getStatusCode() >= 400 && http.getStatusCode() <= 599 ? http.getStatusCode() : 500;
      if (status < 500) {
        error(
            ctx.response(),
            status,
            http.getPayload() != null ? http.getPayload() : String.valueOf(http.getMessage()));
        return;
      }
    } else if (err instanceof ReplyException reply) {
      int code = reply.failureCode();
      switch (reply.failureType()) {
        case NO_HANDLERS -> status = 503;
        case TIMEOUT -> status = 504;
        default -> status = code >= 400 && code <= 599 ? code : 500;
      }
      if (status < 500) {
        error(ctx.response(), status, String.valueOf(reply.getMessage()));
        return;
      }
    }
    // The router's error handler logs the WARNING line and answers the JSON error.
    ctx.fail(status, err);
  }
}
