package com.example.service.lifecycle;

import static java.util.concurrent.TimeUnit.MILLISECONDS;

import com.example.service.lifecycle.internal.ClientErrors;
import com.example.service.lifecycle.internal.Clock;
import com.example.service.lifecycle.internal.Deadline;
import com.example.service.lifecycle.internal.HttpDrain;
import com.example.service.lifecycle.internal.HttpVerticle;
import com.example.service.lifecycle.internal.Internals;
import com.example.service.lifecycle.internal.ManagementVerticle;
import com.example.service.lifecycle.internal.PreStopDelay;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A started service: the application's components, deployed as siblings in dependency order, then
 * {@code HTTP_INSTANCES} HTTP verticles; and the shutdown that takes them down in reverse order
 * under one {@link Deadline}.
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

  private static final Logger LOG = Logger.getLogger("lifecycle");

  private record Deployed(String name, String id) {}

  private final Vertx vertx;
  private final LifecycleOptions options;
  private final HttpDrain drain;
  private final ServiceState state;
  private final ClientErrors clientErrors;
  private final List<Deployed> deployed = new ArrayList<>();
  private final Promise<Void> begun = Promise.promise();
  private int port;
  private int managementPort = -1;
  private ManagementVerticle management;

  private Service(Vertx vertx, LifecycleOptions options) {
    this.vertx = vertx;
    this.options = options;
    this.drain = new HttpDrain(options.host(), options.idleGrace().toMillis());
    this.state = new ServiceState(drain);
    this.clientErrors = new ClientErrors(vertx);
  }

  /**
   * Deploys the application's components one after another, then the HTTP verticles.
   *
   * @param config the configuration loaded with {@link LifecycleOptions#KEYS} and the application's
   *     keys
   * @return the running service, or the first failure, its message naming the component
   */
  public static Future<Service> start(Vertx vertx, Application application, Config config) {
    return start(vertx, application, config, null);
  }

  /**
   * As {@link #start(Vertx, Application, Config)}, with the shutdown's metrics registered in {@code
   * metrics} and served at {@code /metrics}.
   *
   * @param metrics the registry {@code vertx} was made with ({@link Metrics#vertx}), or null for
   *     none
   */
  public static Future<Service> start(
      Vertx vertx, Application application, Config config, Metrics metrics) {
    LifecycleOptions options = LifecycleOptions.from(config);
    try {
      Internals.check();
    } catch (IllegalStateException e) {
      return Future.failedFuture(e);
    }
    Service service = new Service(vertx, options);
    if (metrics != null) {
      metrics.bind(service.state);
    }
    Future<Void> chain = Future.succeededFuture();
    for (Component component : application.components(config)) {
      chain =
          chain.compose(
              v ->
                  service.deploy(
                      component.name(),
                      vertx.deployVerticle(
                          component.verticle(),
                          new DeploymentOptions().setThreadingModel(component.threading()))));
    }
    AtomicReference<HttpVerticle> first = new AtomicReference<>();
    return chain
        .compose(
            v ->
                service.deploy(
                    "http",
                    vertx.deployVerticle(
                        () -> {
                          HttpVerticle http =
                              new HttpVerticle(
                                  options,
                                  service.drain,
                                  service.state,
                                  service.clientErrors,
                                  metrics,
                                  application,
                                  config);
                          first.compareAndSet(null, http);
                          return http;
                        },
                        new DeploymentOptions().setInstances(options.instances()))))
        .compose(v -> service.startManagement(application, config, metrics))
        .map(
            v -> {
              if (metrics != null) {
                metrics.bindJvm(vertx);
              }
              service.port = first.get().actualPort();
              long startedMs = Clock.sinceProcessStartMs();
              Logging.log(
                  LOG,
                  Level.INFO,
                  "listening on "
                      + options.host()
                      + ":"
                      + service.port
                      + " with "
                      + options.instances()
                      + " event loops in "
                      + startedMs
                      + " ms"
                      + (service.managementPort < 0
                          ? ""
                          : "; probes and metrics on "
                              + options.managementHost()
                              + ":"
                              + service.managementPort),
                  Map.of(
                      "port",
                      service.port,
                      "event_loops",
                      options.instances(),
                      "elapsed_ms",
                      startedMs,
                      "management_port",
                      service.managementPort));
              return service;
            });
  }

  /**
   * The management listener, if {@code MANAGEMENT_PORT} is set: last, so readiness answers only
   * once the service port listens. Not one of the stopped components: Vert.x's close ends it.
   */
  private Future<Void> startManagement(Application application, Config config, Metrics metrics) {
    if (options.managementPort() < 0) {
      return Future.succeededFuture();
    }
    management = new ManagementVerticle(options, state, metrics, application, config);
    return vertx
        .deployVerticle(management)
        .recover(
            err ->
                Future.failedFuture(new IllegalStateException("management: " + err.getMessage())))
        .map(
            id -> {
              managementPort = management.actualPort();
              return null;
            });
  }

  private Future<Void> deploy(String name, Future<String> deployment) {
    return deployment
        .recover(
            err -> Future.failedFuture(new IllegalStateException(name + ": " + err.getMessage())))
        .map(
            id -> {
              deployed.add(new Deployed(name, id));
              return null;
            });
  }

  /** The port the HTTP server listens on. */
  public int httpPort() {
    return port;
  }

  /** The port of the management listener ({@code MANAGEMENT_PORT}); -1 if there is none. */
  public int managementPort() {
    return managementPort;
  }

  /** What the service is doing: its phase and the drain's counts, read-only. */
  public ServiceState state() {
    return state;
  }

  /**
   * Completes once every event loop has taken the shutdown's first step: responses carry {@code
   * Connection: close} if there is a pre-stop delay, else new requests are held (see {@link
   * #shutdown}).
   */
  public Future<Void> shutdownBegun() {
    return delayed() ? begun.future() : drain.holding();
  }

  private boolean delayed() {
    return !options.delay().isZero();
  }

  /**
   * Shuts down: readiness fails, the pre-stop delay passes, HTTP drains, then each component stops
   * in reverse order, then Vert.x closes; all after the delay within {@code SHUTDOWN_TIMEOUT_MS} +
   * {@link Deadline#MARGIN_MS}.
   *
   * @param reason what started it, for the log (e.g. {@code SIGTERM})
   * @return the exit status: {@link #EXIT_OK} or {@link #EXIT_INCOMPLETE}; never fails
   */
  public Future<Integer> shutdown(String reason) {
    Clock clock = new Clock();
    boolean delayed = delayed();
    Logging.log(
        LOG,
        Level.INFO,
        "shutdown began ("
            + reason
            + "): readiness is 503"
            + (delayed ? ", responses carry Connection: close" : ""),
        Map.of("signal", reason));
    state.advance(LifecyclePhase.DELAY);
    Future<Void> beginning = drain.beginShutdown(delayed).onComplete(begun);
    return beginning
        .compose(v -> delay())
        .compose(
            v -> {
              Deadline deadline = Deadline.in(options.timeout());
              LOG.info(
                  "closing the listener; draining for at most " + deadline.requestsMs() + " ms");
              state.advance(LifecyclePhase.DRAINING);
              return drain
                  .drain(deadline)
                  .compose(
                      result -> {
                        long drainedMs = deadline.elapsedMs();
                        Logging.log(
                            LOG,
                            Level.INFO,
                            "drained http in " + drainedMs + " ms: " + result.summary(),
                            Map.of(
                                "elapsed_ms", drainedMs,
                                "drained", result.drained(),
                                "aborted", result.aborted()));
                        state.advance(LifecyclePhase.STOPPING);
                        return stopComponents(deadline);
                      })
                  .compose(
                      stopped -> {
                        if (!stopped) {
                          // Vert.x's close would undeploy the component still stopping a second
                          // time and log that as an error; the process exits all the same.
                          LOG.warning("not closing Vert.x: a component is still stopping");
                          return Future.succeededFuture(false);
                        }
                        return closeVertx(deadline);
                      });
            })
        .map(
            stopped -> {
              DrainResult result = drain.result();
              int status = stopped && result.aborted() == 0 ? EXIT_OK : EXIT_INCOMPLETE;
              long tookMs = clock.elapsedMs();
              Logging.log(
                  LOG,
                  Level.INFO,
                  "shutdown complete in "
                      + tookMs
                      + " ms: "
                      + result.summary()
                      + "; exit "
                      + status,
                  Map.of(
                      "elapsed_ms",
                      tookMs,
                      "drained",
                      result.drained(),
                      "aborted",
                      result.aborted(),
                      "exit_status",
                      status));
              return status;
            });
  }

  private Future<Void> delay() {
    if (options.delay().isZero()) {
      return Future.succeededFuture();
    }
    long delayMs = options.delay().toMillis();
    long quietMs = options.quiet().toMillis();
    LOG.info(
        quietMs == 0
            ? "serving for " + delayMs + " ms more so load balancers see readiness fail"
            : "serving for at most "
                + delayMs
                + " ms more so load balancers see readiness fail; less once no request but"
                + " probes and scrapes has come for "
                + quietMs
                + " ms");
    return PreStopDelay.start(vertx, drain::lastTrafficNanos, options.delay(), options.quiet())
        .map(
            ended -> {
              state.delayEnded(ended);
              Logging.log(
                  LOG,
                  Level.INFO,
                  "pre-stop delay ended after "
                      + ended.afterMs()
                      + " ms: "
                      + (ended.quiet()
                          ? "traffic quiet for " + ended.sinceTrafficMs() + " ms"
                          : "delay elapsed"
                              + (quietMs == 0
                                  ? ""
                                  : " (last request " + ended.sinceTrafficMs() + " ms before)")),
                  Map.of(
                      "elapsed_ms", ended.afterMs(),
                      "quiet", ended.quiet(),
                      "since_traffic_ms", ended.sinceTrafficMs()));
              return null;
            });
  }

  /**
   * Undeploys HTTP (its servers are already shut down), then each component in reverse order, until
   * the deadline; true if every one stopped in time.
   */
  private Future<Boolean> stopComponents(Deadline deadline) {
    Future<Boolean> chain = Future.succeededFuture(true);
    for (int i = deployed.size() - 1; i >= 0; i--) {
      Deployed component = deployed.get(i);
      chain = chain.compose(stopped -> undeploy(component, deadline).map(ok -> stopped && ok));
    }
    return chain;
  }

  private Future<Boolean> undeploy(Deployed component, Deadline deadline) {
    long startMs = deadline.elapsedMs();
    long boundMs =
        startMs < deadline.componentsMs()
            ? deadline.untilMs(deadline.componentsMs())
            : Math.min(Deadline.LATE_STOP_MS, deadline.untilMs(deadline.lateStopsMs()));
    return vertx
        .undeploy(component.id())
        .timeout(boundMs, MILLISECONDS)
        .transform(
            ar -> {
              long tookMs = deadline.elapsedMs() - startMs;
              if (ar.succeeded()) {
                Logging.log(
                    LOG,
                    Level.INFO,
                    "stopped " + component.name() + " in " + tookMs + " ms",
                    Map.of("component", component.name(), "elapsed_ms", tookMs));
              } else {
                LOG.warning(component.name() + " did not stop within " + boundMs + " ms");
              }
              return Future.succeededFuture(ar.succeeded());
            });
  }

  private Future<Boolean> closeVertx(Deadline deadline) {
    long boundMs = deadline.untilMs(deadline.closeMs());
    Future<Void> listener =
        management == null ? Future.succeededFuture() : management.closeListener();
    return listener
        .compose(v -> vertx.close())
        .timeout(boundMs, MILLISECONDS)
        .transform(
            ar -> {
              if (ar.failed()) {
                LOG.warning("Vert.x did not close within " + boundMs + " ms");
              }
              return Future.succeededFuture(ar.succeeded());
            });
  }
}
