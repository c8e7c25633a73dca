package com.example.service.example;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

/** {@code GET /hello}: a tiny JSON greeting. */
final class HelloHandler implements Handler<RoutingContext> {

  private static final Buffer GREETING = Buffer.buffer("{\"message\":\"hello\"}");

  @Override
  public void handle(RoutingContext ctx) {
    ctx.response().putHeader("content-type", "application/json").end(GREETING);
  }
}
