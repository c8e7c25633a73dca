package com.example.service.lifecycle;

import com.example.service.lifecycle.internal.LoopConnections;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;

/**
 * Lets a response that stays open (a WebSocket, a server-sent event stream, a long poll) take part
 * in the drain: such a response never ends by itself, so without this it would hold the shutdown
 * until the deadline and be cut there, counted as aborted.
 *
 * <p>{@link WebSocketRoute} and {@link EventStreamRoute} use it; call it yourself for another kind
 * of stream.
 */
public final class LongLived {

  private LongLived() {}

  /**
   * At the start of the drain (after the pre-stop delay), or at once if it has started, runs {@code
   * goingAway}, which must end the stream soon: a close frame, a last event and the end of the
   * response. However the stream then ends, it counts as drained; one still open at the deadline is
   * cut and counts as aborted. Call it on the request's event loop, from a route of the
   * application's; elsewhere (a test's bare router) it does nothing.
   */
  public static void onDrain(RoutingContext ctx, Runnable goingAway) {
    Context context = Vertx.currentContext();
    LoopConnections loop = context == null ? null : context.get(LoopConnections.KEY);
    if (loop != null) {
      loop.longLived(ctx, goingAway);
    }
  }
}
