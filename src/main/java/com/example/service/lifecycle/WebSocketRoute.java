package com.example.service.lifecycle;

import io.netty.util.AsciiString;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
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
    return ctx -> {
      if (!isUpgrade(ctx.request())) {
        // Refused here: Vert.x's own refusal is plain text, or an empty 405 for a HEAD.
        notAnUpgrade(ctx);
        return;
      }
      ctx.request()
          .toWebSocket()
          .onSuccess(
              ws -> {
                LongLived.onDrain(ctx, () -> ws.close(GOING_AWAY, "going away"));
                handler.handle(ws);
              })
          .onFailure(err -> notAnUpgrade(ctx));
    };
  }

  private static void notAnUpgrade(RoutingContext ctx) {
    Responses.error(ctx.response(), 400, "a WebSocket upgrade request is expected");
  }

  /** An HTTP/1.1 GET asking for a WebSocket, as RFC 6455 §4.1 has it; the rest Vert.x checks. */
  private static boolean isUpgrade(HttpServerRequest request) {
    return request.version() == HttpVersion.HTTP_1_1
        && request.method() == HttpMethod.GET
        && HttpHeaders.WEBSOCKET.toString().equalsIgnoreCase(request.getHeader(HttpHeaders.UPGRADE))
        && request.headers().getAll(HttpHeaders.CONNECTION).stream()
            .anyMatch(v -> AsciiString.containsIgnoreCase(v, HttpHeaders.UPGRADE));
  }
}
