package com.example.service.lifecycle;

import io.vertx.core.Handler;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.ext.web.RoutingContext;

/**
 * A route that upgrades to a WebSocket which drains: at the start of the drain the server sends a
 * close frame with 1001 ("going away") and waits for the client's close, at most {@code
 * SHUTDOWN_IDLE_MS}; the socket then counts as drained.
 *
 * <pre>{@code
 * router.get("/ws").handler(WebSocketRoute.create(ws -> ws.textMessageHandler(ws::writeTextMessage)));
 * }</pre>
 */
public interface WebSocketRoute extends Handler<RoutingContext> {

  /** Close code 1001: the endpoint is going away (RFC 6455 §7.4.1). */
  short GOING_AWAY = 1001;

  /**
   * @param handler given each accepted WebSocket; a request that is not an upgrade gets 400
   */
  static WebSocketRoute create(Handler<ServerWebSocket> handler) {
    return ctx ->
        ctx.request()
            .toWebSocket()
            .onSuccess(
                ws -> {
                  LongLived.onDrain(ctx, () -> ws.close(GOING_AWAY, "going away"));
                  handler.handle(ws);
                })
            .onFailure(
                err ->
                    Responses.error(
                        ctx.response(), 400, "a WebSocket upgrade request is expected"));
  }
}
