package com.example.service.lifecycle.internal;

import com.example.service.lifecycle.Application;
import com.example.service.lifecycle.Config;
import com.example.service.lifecycle.LifecyclePhase;
import com.example.service.lifecycle.Metrics;
import com.example.service.lifecycle.ServiceState;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import java.util.List;

/**
 * What probes and scrapers ask for: {@code /health/live}, {@code /health/ready} (the shutdown's
 * phase and the application's own checks) and {@code /metrics}. Served on the service port, or on
 * the management port when {@code MANAGEMENT_PORT} is set ({@link ManagementVerticle}).
 */
final class Probes {

  static final String LIVE = "/health/live";
  static final String READY = "/health/ready";

  private static final List<String> PATHS = List.of(LIVE, READY, Metrics.PATH);

  /** The length of the shortest of the paths, and the character after each one's slash. */
  private static final int SHORTEST = PATHS.stream().mapToInt(String::length).min().orElseThrow();

  private static final String INITIALS =
      PATHS.stream().map(path -> path.substring(1, 2)).distinct().reduce("", String::concat);

  private static final JsonObject UP = new JsonObject().put("status", "UP");

  private Probes() {}

  /** Not traffic to wait for in the pre-stop delay (see {@link PreStopDelay}). */
  static boolean isProbe(String path) {
    return path != null && PATHS.contains(path);
  }

  /**
   * Whether {@link #route} with {@code metrics} serves the request's path, exactly as requested.
   * Asked of every request on the service port: its URI first, as over HTTP/2 Vert.x's {@code
   * path()} takes the connection's lock, and a URI that starts with {@code /} starts with its path.
   */
  static boolean serves(Metrics metrics, HttpServerRequest request) {
    String uri = request.uri();
    if (uri.startsWith("/") && !startsWithAProbe(uri)) {
      return false;
    }
    String path = request.path();
    return isProbe(path) && (metrics != null || !path.equals(Metrics.PATH));
  }

  private static boolean startsWithAProbe(String uri) {
    // Most URIs are ruled out by their length or their second character, before any comparison.
    if (uri.length() < SHORTEST || INITIALS.indexOf(uri.charAt(1)) < 0) {
      return false;
    }
    for (int i = 0; i < PATHS.size(); i++) {
      if (uri.startsWith(PATHS.get(i))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Adds the routes to {@code router}.
   *
   * @param metrics where {@code /metrics} reads from; null when metrics are off
   */
  static void route(
      Vertx vertx,
      Router router,
      ServiceState state,
      Metrics metrics,
      Application application,
      Config config) {
    Handler<Promise<Status>> shutdown =
        p ->
            p.complete(
                state.phase() == LifecyclePhase.SERVING
                    ? Status.OK()
                    : Status.KO(new JsonObject().put("phase", state.phase().name())));
    HealthChecks checks = HealthChecks.create(vertx).register("shutdown", shutdown);
    application.readinessChecks(vertx, checks, config);
    HealthCheckHandler serving = HealthCheckHandler.createWithHealthChecks(checks);
    // Once shutdown has begun, readiness is DOWN whatever the application's checks say: it answers
    // from the shutdown check alone, at once, not after a check that may take a second (a database
    // ping), so a balancer takes the instance out as soon as it asks.
    HealthCheckHandler stopping =
        HealthCheckHandler.createWithHealthChecks(
            HealthChecks.create(vertx).register("shutdown", shutdown));
    router.get(LIVE).handler(ctx -> ctx.json(UP));
    router
        .get(READY)
        .handler(ctx -> (state.phase() == LifecyclePhase.SERVING ? serving : stopping).handle(ctx));
    if (metrics != null) {
      metrics.route(router);
    }
  }
}
