package com.example.service;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;

/**
 * The benchmark's baseline: what most Vert.x services ship. The same {@code GET /hello} on a
 * vertx-web router, no shutdown machinery, and {@code vertx.close()} in a JVM shutdown hook. Its
 * server is HTTP/1.1-only like the template's, so that the comparison measures the drain alone.
 */
public final class BaselineMain {

  private static final Buffer GREETING = Buffer.buffer("{\"message\":\"hello\"}");

  private BaselineMain() {}

  public static void main(String[] args) {
    String host = System.getenv().getOrDefault("HTTP_HOST", "127.0.0.1");
    int port = Integer.parseInt(System.getenv().getOrDefault("HTTP_PORT", "8080"));
    Vertx vertx = Vertx.vertx();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> vertx.close().await()));
    Router router = Router.router(vertx);
    router
        .get("/hello")
        .handler(ctx -> ctx.response().putHeader("content-type", "application/json").end(GREETING));
    vertx
        .createHttpServer(new HttpServerOptions().setHttp2ClearTextEnabled(false))
        .requestHandler(router)
        .listen(port, host)
        .onSuccess(
            server ->
                System.out.println("listening on " + host + ":" + server.actualPort() + " in 0 ms"))
        .onFailure(
            err -> {
              err.printStackTrace();
              System.exit(2);
            });
  }
}
