package com.example.service.lifecycle.internal;

import com.example.service.lifecycle.Application;
import com.example.service.lifecycle.Config;
import com.example.service.lifecycle.HttpLimits;
import com.example.service.lifecycle.LifecycleOptions;
import com.example.service.lifecycle.Metrics;
import com.example.service.lifecycle.ServiceState;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.util.concurrent.TimeUnit;

/**
 * The management listener ({@code MANAGEMENT_PORT}): the probes and the metrics on a port of their
 * own, on one event loop. It is not drained: it answers until Vert.x closes, just before the
 * process exits, so readiness says 503 through the whole shutdown and the last scrape sees the
 * drain's final counts. Nothing it serves counts as traffic for the pre-stop delay.
 */
public final class ManagementVerticle extends VerticleBase {

  private final LifecycleOptions options;
  private final ServiceState state;
  private final Metrics metrics;
  private final Application application;
  private final Config config;
  private HttpServer server;

  /**
   * @param metrics where {@code /metrics} reads from; null when metrics are off
   */
  public ManagementVerticle(
      LifecycleOptions options,
      ServiceState state,
      Metrics metrics,
      Application application,
      Config config) {
    this.options = options;
    this.state = state;
    this.metrics = metrics;
    this.application = application;
    this.config = config;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    Probes.route(vertx, router, state, metrics, application, config);
    HttpLimits limits = options.limits();
    server =
        vertx
            .createHttpServer(
                new HttpServerOptions()
                    .setHost(options.managementHost())
                    .setPort(options.managementPort())
                    .setMaxHeaderSize(limits.maxHeaderBytes())
                    .setMaxInitialLineLength(limits.maxRequestLineBytes())
                    .setIdleTimeout((int) limits.idleTimeout().toSeconds())
                    .setIdleTimeoutUnit(TimeUnit.SECONDS))
            .requestHandler(router);
    String address = options.managementHost() + ":" + options.managementPort();
    return server
        .listen()
        .recover(
            err ->
                Future.failedFuture(
                    new IllegalStateException(
                        "cannot listen on " + address + ": " + err.getMessage(), err)));
  }

  /** The port it listens on (useful when configured with port 0). */
  public int actualPort() {
    return server.actualPort();
  }
}
