package com.example.service.lifecycle.internal;

import com.example.service.lifecycle.Application;
import com.example.service.lifecycle.Config;
import com.example.service.lifecycle.HttpLimits;
import com.example.service.lifecycle.LifecycleOptions;
import com.example.service.lifecycle.Metrics;
import com.example.service.lifecycle.ServiceState;
import io.netty.channel.Channel;
import io.vertx.core.Future;
import io.vertx.core.Promise;
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

  /** The listening socket, as Netty holds it; known from the first connection. */
  private volatile Channel socket;

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
                    // In milliseconds: whole seconds would make any value under one second 0,
                    // which is no idle timeout at all.
                    .setIdleTimeout((int) limits.idleTimeout().toMillis())
                    .setIdleTimeoutUnit(TimeUnit.MILLISECONDS))
            .connectionHandler(
                connection -> {
                  if (socket == null) {
                    socket = Internals.pipeline(connection).channel().parent();
                  }
                })
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

  /**
   * Closes the listening socket, so that the kernel refuses new connections, before Vert.x's close
   * ends this verticle: Vert.x takes the server's event loop away first and closes the socket
   * after, and a connection accepted in between is logged by Netty with a stack trace (Vert.x 5.0's
   * {@code NetServerImpl.doShutdown}). The socket is known once a connection has been accepted;
   * before that Vert.x's close does it, as for the service port ({@link HttpDrain}).
   *
   * @return completes when the socket is closed; never fails
   */
  public Future<Void> closeListener() {
    Channel listening = socket;
    if (listening == null) {
      return Future.succeededFuture();
    }
    Promise<Void> closed = Promise.promise();
    listening.close().addListener(f -> closed.complete());
    return closed.future();
  }

  /** The port it listens on (useful when configured with port 0). */
  public int actualPort() {
    return server.actualPort();
  }
}
