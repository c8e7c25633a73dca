package com.example.service;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import java.util.concurrent.TimeUnit;

/**
 * The benchmark's baseline: what most Vert.x services ship. The same {@code GET /hello} on a
 * vertx-web router, {@code HTTP_INSTANCES} verticle instances on one shared port, Vert.x's defaults
 * (HTTP/1.1 and h2c, as the template serves), and Vert.x's own graceful shutdown: {@code
 * vertx.close()} in a JVM shutdown hook undeploys the verticles, and each one's {@code stop()}
 * calls {@link HttpServer#shutdown(long, TimeUnit)} with a 30 s grace.
 */
public final class BaselineMain extends VerticleBase {

  private final String host;
  private final int port;
  private HttpServer server;

  BaselineMain(String host, int port) {
    this.host = host;
    this.port = port;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.get("/hello").handler(ctx -> ctx.end("hello"));
    server = vertx.createHttpServer().requestHandler(router);
    return server
        .listen(port == 0 ? -1 : port, host)
        .onSuccess(s -> System.out.println("listening on " + host + ":" + s.actualPort() + " "));
  }

  @Override
  public Future<?> stop() {
    return server.shutdown(30, TimeUnit.SECONDS);
  }

  public static void main(String[] args) {
    String host = System.getenv().getOrDefault("HTTP_HOST", "127.0.0.1");
    int port = Integer.parseInt(System.getenv().getOrDefault("HTTP_PORT", "8080"));
    int instances = Integer.parseInt(System.getenv().getOrDefault("HTTP_INSTANCES", "1"));
    Vertx vertx = Vertx.vertx();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> vertx.close().await()));
    try {
      // Awaited here: System.exit on an event loop would wait for the hook, which waits for
      // Vert.x to close, which waits for that loop, and the process would never exit.
      vertx
          .deployVerticle(
              () -> new BaselineMain(host, port), new DeploymentOptions().setInstances(instances))
          .await();
    } catch (Exception e) {
      System.err.println("cannot listen: " + e.getMessage());
      System.exit(2);
    }
  }
}
