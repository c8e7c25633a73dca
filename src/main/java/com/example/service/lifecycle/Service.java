package com.example.service.lifecycle;

import static java.util.concurrent.TimeUnit.MILLISECONDS;

import com.example.service.ServiceConfig;
import io.vertx.core.Deployable;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * A started service: its components, deployed as siblings in dependency order with the HTTP
 * verticle last, and the shutdown that takes them down in reverse order under one deadline.
 *
 * <p>Siblings, not children: Vert.x undeploys a verticle's children in parallel before the parent's
 * own stop, which would take the dependencies away while HTTP is still draining.
 */
public final class Service {

  /** Exit status after a clean shutdown. */
  public static final int EXIT_OK = 0;

  /** Exit status when a request was aborted at the deadline or a component did not stop in time. */
  public static final int EXIT_INCOMPLETE = 1;

  /** Exit status when startup failed: bad configuration, port taken, a component failed. */
  public static final int EXIT_STARTUP_FAILED = 2;

  /** The least time each dependency gets to stop, so a flush and close are never cut short. */
  static final long MIN_STOP_MS = 1000;

  private static final Logger LOG = Logger.getLogger("lifecycle");

  /**
   * A verticle the HTTP verticle depends on.
   *
   * @param name for the log
   * @param verticle the instance to deploy
   * @param threading {@link ThreadingModel#WORKER} for one that blocks
   */
  public record Component(String name, Deployable verticle, ThreadingModel threading) {}

  private record Deployed(String name, String id) {}

  private final Vertx vertx;
  private final ServiceConfig config;
  private final HttpVerticle http;
  private final List<Deployed> deployed = new ArrayList<>();

  private Service(Vertx vertx, ServiceConfig config, HttpVerticle http) {
    this.vertx = vertx;
    this.config = config;
    this.http = http;
  }

  /**
   * Deploys {@code components} one after another, then {@code http}.
   *
   * @return the running service, or the first failure, its message naming the component
   */
  public static Future<Service> start(
      Vertx vertx, ServiceConfig config, List<Component> components, HttpVerticle http) {
    Service service = new Service(vertx, config, http);
    Future<Void> chain = Future.succeededFuture();
    for (Component component : components) {
      chain = chain.compose(v -> service.deploy(component));
    }
    return chain
        .compose(v -> service.deploy(new Component("http", http, ThreadingModel.EVENT_LOOP)))
        .map(
            v -> {
              LOG.info(
                  "listening on "
                      + config.httpHost()
                      + ":"
                      + http.actualPort()
                      + " in "
                      + Clock.sinceProcessStartMs()
                      + " ms");
              return service;
            });
  }

  private Future<Void> deploy(Component component) {
    return vertx
        .deployVerticle(
            component.verticle(), new DeploymentOptions().setThreadingModel(component.threading()))
        .recover(
            err ->
                Future.failedFuture(
                    new IllegalStateException(component.name() + ": " + err.getMessage(), err)))
        .map(
            id -> {
              deployed.add(new Deployed(component.name(), id));
              return null;
            });
  }

  /** The port the HTTP server listens on. */
  public int httpPort() {
    return http.actualPort();
  }

  /**
   * Shuts down: readiness fails, the pre-stop delay passes, HTTP drains, then each dependency stops
   * in reverse order, each bounded by what is left of the deadline, then Vert.x closes.
   *
   * @param reason what started it, for the log (e.g. {@code SIGTERM})
   * @return the exit status: {@link #EXIT_OK} or {@link #EXIT_INCOMPLETE}; never fails
   */
  public Future<Integer> shutdown(String reason) {
    Clock clock = new Clock();
    LOG.info(
        "shutdown began (" + reason + "): readiness is 503, responses carry Connection: close");
    return http.beginShutdown()
        .compose(v -> delay())
        .compose(v -> stopComponents(clock))
        .compose(
            stopped ->
                vertx
                    .close()
                    .timeout(MIN_STOP_MS, MILLISECONDS)
                    .transform(ar -> Future.succeededFuture(stopped && ar.succeeded())))
        .map(
            stopped -> {
              HttpDrain.Result result = http.drainResult();
              int status = stopped && result.aborted() == 0 ? EXIT_OK : EXIT_INCOMPLETE;
              LOG.info(
                  "shutdown complete in "
                      + clock.elapsedMs()
                      + " ms: "
                      + result.drained()
                      + " requests drained, "
                      + result.aborted()
                      + " aborted; exit "
                      + status);
              return status;
            });
  }

  private Future<Void> delay() {
    long delayMs = config.shutdownDelayMs();
    if (delayMs == 0) {
      return Future.succeededFuture();
    }
    LOG.info("serving for " + delayMs + " ms more so load balancers see readiness fail");
    return vertx.timer(delayMs, MILLISECONDS).mapEmpty();
  }

  /** Undeploys HTTP, then each dependency in reverse order; true if every one stopped in time. */
  private Future<Boolean> stopComponents(Clock clock) {
    LOG.info("closing the listener; draining for at most " + config.shutdownTimeoutMs() + " ms");
    long deadlineMs = clock.elapsedMs() + config.shutdownTimeoutMs();
    int last = deployed.size() - 1;
    Future<Boolean> chain = Future.succeededFuture(true);
    for (int i = last; i >= 0; i--) {
      Deployed component = deployed.get(i);
      boolean isHttp = i == last;
      chain =
          chain.compose(
              stopped -> {
                // HTTP bounds its own drain by the deadline; this only backs that up.
                long boundMs =
                    isHttp
                        ? config.shutdownTimeoutMs() + 3 * HttpDrain.ABORT_GRACE_MS
                        : Math.max(MIN_STOP_MS, deadlineMs - clock.elapsedMs());
                return undeploy(component, boundMs, clock, isHttp).map(ok -> stopped && ok);
              });
    }
    return chain;
  }

  private Future<Boolean> undeploy(Deployed component, long boundMs, Clock clock, boolean isHttp) {
    long startMs = clock.elapsedMs();
    return vertx
        .undeploy(component.id())
        .timeout(boundMs, MILLISECONDS)
        .transform(
            ar -> {
              long tookMs = clock.elapsedMs() - startMs;
              if (ar.succeeded()) {
                String detail = "";
                if (isHttp) {
                  HttpDrain.Result r = http.drainResult();
                  detail = ": " + r.drained() + " requests drained, " + r.aborted() + " aborted";
                }
                LOG.info("stopped " + component.name() + " in " + tookMs + " ms" + detail);
              } else {
                LOG.warning(
                    component.name()
                        + " did not stop within "
                        + boundMs
                        + " ms: "
                        + ar.cause().getMessage());
              }
              return Future.succeededFuture(ar.succeeded());
            });
  }
}
