package com.example.service.lifecycle;

import static java.util.concurrent.TimeUnit.MILLISECONDS;

import com.example.service.lifecycle.internal.ClientErrors;
import com.example.service.lifecycle.internal.Clock;
import com.example.service.lifecycle.internal.Deadline;
import com.example.service.lifecycle.internal.Deployments;
import com.example.service.lifecycle.internal.HttpDrain;
import com.example.service.lifecycle.internal.HttpVerticle;
import com.example.service.lifecycle.internal.Internals;
import com.example.service.lifecycle.internal.ManagementVerticle;
import com.example.service.lifecycle.internal.PreStopDelay;
import com.example.service.lifecycle.internal.StartPhase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
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

  private static final String STILL_STOPPING = "a component is still stopping";

  private final Vertx vertx;
  private final LifecycleOptions options;
  private final HttpDrain drain;
  private final ServiceState state;
  private final ClientErrors clientErrors;
  private final Deployments deployments;
  private final Promise<Void> begun = Promise.promise();
  private final StartPhase startPhase = new StartPhase();

  /** The components' start, which a shutdown during it waits for. */
  private volatile Future<Void> components;

  private int port;
  private int managementPort = -1;
  private ManagementVerticle management;

  private Service(Vertx vertx, LifecycleOptions options) {
    this.vertx = vertx;
    this.options = options;
    this.drain = new HttpDrain(options.host(), options.idleGrace().toMillis());
    this.state = new ServiceState(drain);
    this.clientErrors = new ClientErrors(vertx);
    this.deployments = new Deployments(vertx);
  }

  /**
   * Deploys the application's components one after another, then the HTTP verticles.
   *
   * @param config the configuration loaded with {@link LifecycleOptions#KEYS} and the application's
   *     keys
   * @return the running service, or the first failure, its message naming the component
   */
  public static Future<Service> start(Vertx vertx, Application application, Config config) {
    return start(vertx, application, config, null, Promise.<String>promise().future());
  }

  /**
   * Deploys the application's components one after another, then the HTTP verticles; and the
   * management listener, if it has a port.
   *
   * <p>A shutdown signal that comes while the components start cuts the start short: no further
   * component starts, and the returned future completes at once, with a service whose {@link
   * #shutdown} stops the ones that did once the one starting has, all within {@code
   * SHUTDOWN_TIMEOUT_MS} + {@link Deadline#MARGIN_MS}. Such a service never served: it has no
   * {@link #httpPort}, and {@link #shutdownBegun} never completes. A signal that comes once the
   * HTTP verticles deploy is the shutdown of a service that serves.
   *
   * <p>Each HTTP verticle has an event loop of its own if {@code vertx}'s pool has at least {@code
   * HTTP_INSTANCES} loops ({@code Main} sizes it so).
   *
   * @param metrics the registry of the Vert.x made with {@link Metrics#vertx}, or null
   * @param signal completes with a shutdown signal's name
   * @return the service, or the first failure, its message naming the component
   */
  public static Future<Service> start(
      Vertx vertx, Application application, Config config, Metrics metrics, Future<String> signal) {
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
    // Before the first component starts: a signal may have come already.
    Promise<Service> started = Promise.promise();
    signal.onSuccess(
        name -> {
          if (service.startPhase.cutShort()) {
            started.tryComplete(service);
          }
        });
    Future<Void> chain = Future.succeededFuture();
    for (Component component : application.components(config)) {
      chain =
          chain.compose(
              v ->
                  service.startPhase.beginComponent(component.name())
                      ? service.deployments.deploy(
                          component.name(),
                          () ->
                              vertx.deployVerticle(
                                  component.verticle(),
                                  new DeploymentOptions().setThreadingModel(component.threading())))
                      : Future.succeededFuture());
    }
    service.components = chain;
    chain
        .compose(
            v ->
                service.startPhase.beginHttp()
                    ? service.startHttp(application, config, metrics)
                    : Future.<Void>succeededFuture())
        .onComplete(v -> started.tryComplete(service), started::tryFail);
    return started.future();
  }

  /** The HTTP verticles, then the management listener; then the start's one log line. */
  private Future<Void> startHttp(Application application, Config config, Metrics metrics) {
    AtomicReference<HttpVerticle> first = new AtomicReference<>();
    return deployments
        .deploy(
            "http",
            () ->
                vertx.deployVerticle(
                    () -> {
                      HttpVerticle http =
                          new HttpVerticle(
                              options, drain, state, clientErrors, metrics, application, config);
                      first.compareAndSet(null, http);
                      return http;
                    },
                    new DeploymentOptions().setInstances(options.instances())))
        .compose(v -> startManagement(application, config, metrics))
        .map(
            v -> {
              port = first.get().actualPort();
              long startedMs = Clock.sinceProcessStartMs();
              Logging.log(
                  LOG,
                  Level.INFO,
                  "listening on "
                      + options.host()
                      + ":"
                      + port
                      + " with "
                      + options.instances()
                      + " event loops in "
                      + startedMs
                      + " ms"
                      + (managementPort < 0
                          ? ""
                          : "; probes and metrics on "
                              + options.managementHost()
                              + ":"
                              + managementPort),
                  Map.of(
                      "port",
                      port,
                      "event_loops",
                      options.instances(),
                      "elapsed_ms",
                      startedMs,
                      "management_port",
                      managementPort));
              return null;
            });
  }

  /**
   * Deploys the management listener, if {@code MANAGEMENT_PORT} is set: probes and metrics on a
   * port of their own.
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
   * <p>Of a start a signal cut short, nothing serves yet: the component starting gets until the
   * deadline to finish its start, then the components started stop in reverse order, and Vert.x
   * closes, unless that start has still not finished; all within {@code SHUTDOWN_TIMEOUT_MS} +
   * {@link Deadline#MARGIN_MS}.
   *
   * @param reason what started it, for the log (e.g. {@code SIGTERM})
   * @return the exit status: {@link #EXIT_OK} or {@link #EXIT_INCOMPLETE}; {@link
   *     #EXIT_STARTUP_FAILED} if a start the signal cut short failed; never fails
   */
  public Future<Integer> shutdown(String reason) {
    if (startPhase.isCutShort()) {
      return shutdownBeforeServing(reason);
    }
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
                        return deployments.stopAll(deadline);
                      })
                  .compose(stopped -> closeVertx(stopped ? null : STILL_STOPPING, deadline));
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
    if (!delayed()) {
      return Future.succeededFuture();
    }
    return PreStopDelay.start(
            vertx, drain::lastTrafficNanos, options.delay(), options.quiet(), state::delayEnded)
        .mapEmpty();
  }

  /** See {@link #shutdown}: the components started stop once the one starting has. */
  private Future<Integer> shutdownBeforeServing(String reason) {
    Clock clock = new Clock();
    Deadline deadline = Deadline.in(options.timeout());
    String waitingFor = components.isComplete() ? null : startPhase.starting();
    Logging.log(
        LOG,
        Level.INFO,
        "shutdown began ("
            + reason
            + ") during start-up, before serving: no further component starts"
            + (waitingFor == null
                ? ""
                : "; waiting at most " + deadline.requestsMs() + " ms for " + waitingFor),
        Map.of("signal", reason));
    state.advance(LifecyclePhase.STOPPING);
    // Until the drain's point in the budget: the components started keep the reserve to stop in.
    return components
        .timeout(deadline.untilMs(deadline.requestsMs()), MILLISECONDS)
        .transform(
            ar -> {
              int startStatus = EXIT_OK;
              if (components.failed()) {
                LOG.severe("startup failed: " + components.cause().getMessage());
                startStatus = EXIT_STARTUP_FAILED;
              } else if (ar.failed()) {
                LOG.warning(
                    waitingFor
                        + " did not finish starting within "
                        + deadline.requestsMs()
                        + " ms");
                startStatus = EXIT_INCOMPLETE;
              }
              int started = startStatus;
              String starting =
                  started == EXIT_INCOMPLETE ? waitingFor + " is still starting" : null;
              return deployments
                  .stopAll(deadline)
                  .compose(
                      stopped ->
                          closeVertx(
                              starting != null ? starting : stopped ? null : STILL_STOPPING,
                              deadline))
                  .map(closed -> started == EXIT_OK && !closed ? EXIT_INCOMPLETE : started);
            })
        .map(
            status -> {
              long tookMs = clock.elapsedMs();
              Logging.log(
                  LOG,
                  Level.INFO,
                  "shutdown complete in " + tookMs + " ms: stopped before serving; exit " + status,
                  Map.of("elapsed_ms", tookMs, "exit_status", status));
              return status;
            });
  }

  /**
   * Closes Vert.x, unless {@code busy} says which component has not stopped or started; true if it
   * closed by the deadline.
   */
  private Future<Boolean> closeVertx(String busy, Deadline deadline) {
    if (busy != null) {
      // Vert.x's close would undeploy that component: one still stopping a second time, which it
      // logs as an error; one still starting by failing its start on a loop of its own and handing
      // that to the deploying context's loop, which the same close may have shut down already, and
      // Vert.x logs the rejected handoff with a stack trace. The process exits all the same.
      LOG.warning("not closing Vert.x: " + busy);
      return Future.succeededFuture(false);
    }
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
