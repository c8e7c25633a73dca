package com.example.service.lifecycle.internal;

import com.example.service.lifecycle.Application;
import com.example.service.lifecycle.Config;
import com.example.service.lifecycle.HttpLimits;
import com.example.service.lifecycle.LifecycleOptions;
import com.example.service.lifecycle.Metrics;
import com.example.service.lifecycle.Responses;
import com.example.service.lifecycle.Service;
import com.example.service.lifecycle.ServiceState;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One instance of the HTTP server, on one event loop: the application's routes plus the {@link
 * Probes} (unless {@code MANAGEMENT_PORT} moves them to the {@link ManagementVerticle}), behind
 * that loop's share of the {@link HttpDrain}, with every connection held to the {@link HttpLimits}
 * by a {@link ConnectionGuard}. {@link Service} deploys one per {@code HTTP_INSTANCES}, all
 * listening on the same socket.
 */
public final class HttpVerticle extends VerticleBase {

  private static final Logger LOG = Logger.getLogger("http");

  private final LifecycleOptions options;
  private final HttpDrain drain;
  private final ServiceState state;
  private final ClientErrors clientErrors;
  private final Metrics metrics;
  private final Application application;
  private final Config config;
  private HttpServer server;

  /**
   * @param metrics where {@code /metrics} reads from; null when metrics are off
   */
  public HttpVerticle(
      LifecycleOptions options,
      HttpDrain drain,
      ServiceState state,
      ClientErrors clientErrors,
      Metrics metrics,
      Application application,
      Config config) {
    this.options = options;
    this.drain = drain;
    this.state = state;
    this.clientErrors = clientErrors;
    this.metrics = metrics;
    this.application = application;
    this.config = config;
  }

  @Override
  public Future<?> start() {
    HttpLimits limits = options.limits();
    // Vert.x's own h2c detection stays off: it would let a first HTTP/1 request past the guard
    // (see Http2Switch), which detects HTTP/2 itself. Port 0 becomes -1: Vert.x then binds one
    // random port that every instance shares, where 0 would give each instance a port of its own.
    HttpServerOptions serverOptions =
        new HttpServerOptions()
            .setHost(options.host())
            .setPort(options.port() == 0 ? -1 : options.port())
            .setHttp2ClearTextEnabled(false)
            .setMaxHeaderSize(limits.maxHeaderBytes())
            .setMaxInitialLineLength(limits.maxRequestLineBytes())
            // How long a WebSocket told to go away waits for its client's close frame: the idle
            // grace, in Vert.x's whole seconds, rounded up.
            .setWebSocketClosingTimeout(
                (int) Math.max(1, (options.idleGrace().toMillis() + 999) / 1000));
    serverOptions.getInitialSettings().setMaxHeaderListSize(limits.maxHeaderBytes());
    server = vertx.createHttpServer(serverOptions);
    Http2Switch http2 =
        options.http2()
            ? new Http2Switch(
                server,
                context,
                serverOptions,
                this::invalidRequest,
                err -> clientErrors.record(Level.INFO, "HTTP/2 connection error", causes(err)),
                options.http2Upgrade(),
                () ->
                    new Http2Timeouts(
                        limits.headTimeout().toNanos(),
                        limits.bodyTimeout().toNanos(),
                        limits.writeTimeout().toNanos(),
                        limits.idleTimeout().toNanos(),
                        (kind, client) -> clientErrors.record(Level.INFO, kind, client)))
            : null;
    LoopDrain loop =
        new LoopDrain(
            vertx,
            context,
            drain,
            new ConnectionGuard.Settings(serverOptions, limits, clientErrors, http2));
    Router router = router();
    application.routes(vertx, router, config);
    answerHeadOnGetRoutes(router);
    Handler<HttpServerRequest> routes = router;
    if (options.managementPort() < 0) {
      // A router of their own, picked by path: no route of the application's can shadow them, and
      // its requests walk none of their routes.
      Router probes = router();
      Probes.route(vertx, probes, state, metrics, application, config);
      answerHeadOnGetRoutes(probes);
      routes = request -> (Probes.serves(metrics, request) ? probes : router).handle(request);
    }
    loop.connections()
        .routes(http2 == null ? routes : new Http2BodyLimit(limits, clientErrors, routes));

    // The drain's tracking is the request handler, ahead of the routers, so no route can skip it.
    server
        .connectionHandler(loop.connections()::connected)
        .invalidRequestHandler(this::invalidRequest)
        .requestHandler(loop.connections());
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

  /** A router with the access log, if on, and the template's JSON for every error status. */
  private Router router() {
    Router router = Router.router(vertx);
    if (options.accessLog()) {
      router.route().handler(new AccessLog(state));
    }
    // Every status vertx-web may fail a request with, so none goes out as plain text and none is
    // logged as "Unhandled exception in router" with a stack trace.
    for (int status = 400; status < 600; status++) {
      int code = status;
      router.errorHandler(code, ctx -> routingError(ctx, code));
    }
    return router;
  }

  /** The port the server listens on (useful when configured with port 0). */
  public int actualPort() {
    return server.actualPort();
  }

  /** {@code HEAD} works on every {@code GET} route; Vert.x sends the headers and no body. */
  private static void answerHeadOnGetRoutes(Router router) {
    for (Route route : router.getRoutes()) {
      Set<HttpMethod> methods = route.methods();
      if (methods != null && methods.contains(HttpMethod.GET)) {
        route.method(HttpMethod.HEAD);
      }
    }
  }

  private void routingError(RoutingContext ctx, int status) {
    String reason =
        status == 413
            ? options.limits().bodyTooLarge()
            : HttpResponseStatus.valueOf(status).reasonPhrase().toLowerCase();
    HttpServerRequest request = ctx.request();
    if (status >= 500) {
      // A real failure: one line with its causes, for the operator.
      LOG.log(
          Level.WARNING,
          "request failed: "
              + request.method()
              + " "
              + ClientErrors.printable(request.uri())
              + ": "
              + causes(ctx.failure()));
    } else if (status == 400 || status == 413) {
      clientErrors.refused(status + " " + reason, request);
    }
    if (status == 413 && request.version() != HttpVersion.HTTP_2) {
      // The body was not read: the connection cannot carry another request. HTTP/2 forbids the
      // header (RFC 9113 §8.2.2), and its other streams go on.
      ctx.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
    }
    Responses.error(ctx.response(), status, reason);
  }

  /** A request Vert.x could not parse, or the guard refused: never routed, always closed. */
  private void invalidRequest(HttpServerRequest request) {
    Throwable cause = request.decoderResult().cause();
    int status;
    String message;
    if (cause instanceof Http1Decoder.BadRequest bad) {
      status = bad.status;
      message = bad.getMessage();
    } else if (cause instanceof TooLongHttpLineException) {
      status = 414;
      message = "request line too long";
    } else if (cause instanceof TooLongHttpHeaderException) {
      status = 431;
      message = "request header fields too large";
    } else {
      status = 400;
      message = "malformed request";
    }
    clientErrors.refused(status + " " + message, request);
    request.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
    Responses.error(request.response(), status, message);
  }

  /** {@code Type: message} of a failure and its causes, on one line. */
  static String causes(Throwable failure) {
    if (failure == null) {
      return "no cause given";
    }
    StringBuilder line = new StringBuilder();
    for (Throwable t = failure; t != null && line.length() < 500; t = t.getCause()) {
      if (line.length() > 0) {
        line.append(" <- ");
      }
      // An HttpException's message is its status's reason; what went wrong is its payload.
      String message =
          t instanceof HttpException http && http.getPayload() != null
              ? http.getPayload()
              : t.getMessage();
      // A component may have echoed client input into it: one line, cut short.
      line.append(t.getClass().getSimpleName())
          .append(": ")
          .append(ClientErrors.printable(message));
    }
    return line.toString();
  }
}
