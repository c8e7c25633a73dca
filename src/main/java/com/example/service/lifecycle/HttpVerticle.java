package com.example.service.lifecycle;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One instance of the HTTP server, on one event loop: the application's routes plus {@code
 * /health/live} and {@code /health/ready}, behind that loop's share of the {@link HttpDrain}.
 * {@link Service} deploys one per {@code HTTP_INSTANCES}, all listening on the same socket.
 */
final class HttpVerticle extends VerticleBase {

  private static final JsonObject UP = new JsonObject().put("status", "UP");
  private static final Logger LOG = Logger.getLogger("http");

  private final LifecycleOptions options;
  private final HttpDrain drain;
  private final Application application;
  private final Config config;
  private HttpServer server;

  HttpVerticle(LifecycleOptions options, HttpDrain drain, Application application, Config config) {
    this.options = options;
    this.drain = drain;
    this.application = application;
    this.config = config;
  }

  @Override
  public Future<?> start() {
    LoopDrain loop = new LoopDrain(vertx, context, drain);
    HealthChecks checks = HealthChecks.create(vertx);
    checks.register(
        "shutdown",
        p ->
            p.complete(
                drain.phase() == LifecyclePhase.SERVING
                    ? Status.OK()
                    : Status.KO(new JsonObject().put("phase", drain.phase().name()))));
    application.readinessChecks(vertx, checks, config);

    Router router = Router.router(vertx);
    router.route().handler(loop);
    router.get("/health/live").handler(ctx -> ctx.json(UP));
    router.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(checks));
    application.routes(vertx, router, config);
    router.errorHandler(404, ctx -> Responses.error(ctx.response(), 404, "not found"));
    router.errorHandler(405, ctx -> Responses.error(ctx.response(), 405, "method not allowed"));
    router.errorHandler(
        500,
        ctx -> {
          LOG.log(Level.WARNING, "request failed: " + ctx.request().uri(), ctx.failure());
          Responses.error(ctx.response(), 500, "internal error");
        });

    // HTTP/1.1 only: the drain's Connection: close means nothing to HTTP/2, which Vert.x would
    // otherwise accept as a cleartext upgrade. Port 0 becomes -1: Vert.x then binds one random
    // port that every instance shares, where 0 would give each instance a port of its own.
    HttpServerOptions serverOptions =
        new HttpServerOptions()
            .setHost(options.host())
            .setPort(options.port() == 0 ? -1 : options.port())
            .setHttp2ClearTextEnabled(false);
    server =
        vertx
            .createHttpServer(serverOptions)
            .connectionHandler(loop::connected)
            .requestHandler(router);
    String address = options.host() + ":" + options.port();
    return server
        .listen()
        .onSuccess(
            s -> {
              loop.listening(s);
              drain.register(loop, s.actualPort());
            })
        .recover(
            err ->
                Future.failedFuture(
                    new IllegalStateException(
                        "cannot listen on " + address + ": " + err.getMessage(), err)));
  }

  /** The port the server listens on (useful when configured with port 0). */
  int actualPort() {
    return server.actualPort();
  }
}
