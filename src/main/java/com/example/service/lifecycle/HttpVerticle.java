package com.example.service.lifecycle;

import com.example.service.ServiceConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.util.function.BiConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Serves the application's routes plus {@code /health/live} and {@code /health/ready}, and drains
 * them on stop with an {@link HttpDrain}.
 */
public final class HttpVerticle extends VerticleBase {

  private static final JsonObject UP = new JsonObject().put("status", "UP");
  private static final Logger LOG = Logger.getLogger("http");

  private final ServiceConfig config;
  private final BiConsumer<Vertx, Router> routes;
  private HttpDrain drain;
  private HttpServer server;
  private volatile HttpDrain.Result result = new HttpDrain.Result(0, 0);

  /**
   * @param routes adds the application's routes to the router
   */
  public HttpVerticle(ServiceConfig config, BiConsumer<Vertx, Router> routes) {
    this.config = config;
    this.routes = routes;
  }

  @Override
  public Future<?> start() {
    drain = new HttpDrain(vertx, config.shutdownIdleMs());
    Router router = Router.router(vertx);
    router.route().handler(drain);
    router.get("/health/live").handler(ctx -> ctx.json(UP));
    router
        .get("/health/ready")
        .handler(
            ctx -> {
              if (drain.draining()) {
                Responses.error(ctx.response(), 503, "shutting down");
              } else {
                ctx.json(UP);
              }
            });
    routes.accept(vertx, router);
    router.errorHandler(404, ctx -> Responses.error(ctx.response(), 404, "not found"));
    router.errorHandler(405, ctx -> Responses.error(ctx.response(), 405, "method not allowed"));
    router.errorHandler(
        500,
        ctx -> {
          LOG.log(Level.WARNING, "request failed: " + ctx.request().uri(), ctx.failure());
          Responses.error(ctx.response(), 500, "internal error");
        });

    // HTTP/1.1 only: HttpDrain's Connection: close means nothing to HTTP/2, which Vert.x would
    // otherwise accept as a cleartext upgrade.
    HttpServerOptions options =
        new HttpServerOptions()
            .setHost(config.httpHost())
            .setPort(config.httpPort())
            .setHttp2ClearTextEnabled(false);
    server =
        vertx.createHttpServer(options).connectionHandler(drain::connected).requestHandler(router);
    String address = config.httpHost() + ":" + config.httpPort();
    return server
        .listen()
        .recover(
            err ->
                Future.failedFuture(
                    new IllegalStateException(
                        "cannot listen on " + address + ": " + err.getMessage(), err)));
  }

  /** The port the server listens on (useful when configured with port 0). */
  public int actualPort() {
    return server.actualPort();
  }

  /**
   * Fails readiness and marks every response from now on with {@code Connection: close}, while
   * still accepting connections. Callable from any thread.
   */
  public Future<Void> beginShutdown() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(
        v -> {
          drain.beginDrain();
          done.complete();
        });
    return done.future();
  }

  /** Stops accepting and drains, bounded by {@code SHUTDOWN_TIMEOUT_MS} from now. */
  @Override
  public Future<?> stop() {
    return drain.drain(server, config.shutdownTimeoutMs()).onSuccess(r -> result = r);
  }

  /** What the drain did; zeros until {@link #stop} has finished. */
  public HttpDrain.Result drainResult() {
    return result;
  }
}
