package com.example.service.lifecycle;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmCompilationMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmHeapPressureMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.instrumentation.jvm.JvmGarbageCollectorMetrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * Prometheus metrics at {@code GET /metrics} on the service port: the JVM's (memory, threads,
 * classes, CPU, and each collector's collections and their time as {@code
 * jvm_gc_collection_seconds}, all read at each scrape; with {@code METRICS_GC_PAUSES=true} also
 * Micrometer's meters of each collection: {@code jvm_gc_pause_seconds} by cause with its maximum,
 * bytes allocated and promoted, live data, GC overhead), Vert.x's from vertx-micrometer-metrics
 * (with {@code METRICS_HTTP_REQUESTS=true}: HTTP server requests by method, route pattern and
 * status, response times, active requests and connections), and the shutdown's, under names
 * dashboards and alerts can share:
 *
 * <ul>
 *   <li>{@code service_lifecycle_phase}: 0 serving, 1 pre-stop delay, 2 draining, 3 stopping
 *   <li>{@code service_lifecycle_delay_seconds}: how long the pre-stop delay lasted, and {@code
 *       service_lifecycle_delay_ended_quiet}: 1 if the quiet period ended it
 *   <li>{@code service_http_requests_in_flight}, {@code service_http_connections}: over every event
 *       loop
 *   <li>{@code service_http_drained_requests_total}, {@code service_http_aborted_requests_total}
 *   <li>{@code service_http_connections_closed_by_drain_total}, {@code
 *       service_http_connections_refused_total} (over {@code HTTP_MAX_CONNECTIONS}), {@code
 *       service_http_connections_retired_total} (for their age)
 * </ul>
 *
 * With {@code METRICS_ENABLED=false} none of it exists: Vert.x is made without a metrics backend,
 * so requests pay nothing for it.
 */
public final class Metrics {

  /** Where the metrics are served. */
  public static final String PATH = "/metrics";

  /**
   * vertx-micrometer-metrics registers some gauges again on purpose (active requests on every
   * request, some of the SQL client's) and gets the same counter back; Micrometer warns on the
   * second registration that it "will be ignored" (vert-x3/vertx-micrometer-metrics#259), which
   * reads like lost data. Those warnings are dropped, any other stays. Held in a field: JUL keeps
   * its loggers only weakly.
   */
  private static final Logger REGISTRY_LOG =
      Logger.getLogger("io.micrometer.core.instrument.MeterRegistry");

  private static final String VERTX_GAUGE_AGAIN =
      "This Gauge has been already registered (MeterId{name='vertx.";

  private final PrometheusMeterRegistry registry;

  /** Whether Micrometer's GC meters listen to each collection ({@code METRICS_GC_PAUSES}). */
  private final boolean gcPauses;

  /**
   * The JVM's Micrometer meters: vertx-micrometer's set ({@code jvmMetricsEnabled}), its two GC
   * meters only with {@code METRICS_GC_PAUSES}.
   */
  private List<MeterBinder> jvm = List.of();

  private boolean closed;

  /** Set by the first scrape, which binds the JVM's meters. */
  private final AtomicBoolean jvmBinding = new AtomicBoolean();

  /** Completes once the JVM's meters are bound; /metrics waits for them. */
  private final Promise<Void> jvmBound = Promise.promise();

  private Metrics(PrometheusMeterRegistry registry, boolean gcPauses) {
    this.registry = registry;
    this.gcPauses = gcPauses;
  }

  /**
   * A Prometheus registry, for a Vert.x instance made with {@link #vertx}.
   *
   * @param gcPauses also Micrometer's GC meters ({@code JvmGcMetrics}, {@code
   *     JvmHeapPressureMetrics}); they take the JVM's notification of every collection, which the
   *     JVM builds for them and they parse on its service thread: per collection, so under a high
   *     allocation rate 2–3% of the process's CPU (docs/performance.md)
   */
  public static Metrics prometheus(boolean gcPauses) {
    REGISTRY_LOG.setFilter(
        record ->
            record.getMessage() == null || !record.getMessage().startsWith(VERTX_GAUGE_AGAIN));
    return new Metrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), gcPauses);
  }

  /**
   * Makes a Vert.x instance that reports to this registry.
   *
   * @param httpRequests also the library's per-request HTTP server metrics; their route label is
   *     the route's pattern ({@code /items/:name}), never the raw path, so a client cannot make a
   *     series per URL
   */
  public Vertx vertx(VertxOptions options, boolean httpRequests) {
    MicrometerMetricsOptions metrics =
        new MicrometerMetricsOptions()
            .setEnabled(true)
            // Bound below instead, off the way to the first request.
            .setJvmMetricsEnabled(false)
            .addLabels(Label.HTTP_METHOD, Label.HTTP_CODE, Label.HTTP_ROUTE)
            // Without an address label (unbounded with request-reply) its handler gauges collide.
            .addDisabledMetricsCategory(MetricsDomain.EVENT_BUS);
    if (!httpRequests) {
      // More than a default may cost on a trivial route (docs/observability.md).
      metrics.addDisabledMetricsCategory(MetricsDomain.HTTP_SERVER);
    }
    return Vertx.builder()
        .with(options.setMetricsOptions(metrics))
        .withMetrics(new MicrometerMetricsFactory(registry))
        .build();
  }

  /**
   * Binds the JVM's meters once: about 100 ms of class loading and MXBean lookups, on a worker at
   * the first scrape rather than on the way to the first request. A scraper's first scrape is where
   * its rates start; the collectors' counts go back to the JVM's start, Micrometer's GC meters to
   * their binding.
   */
  private Future<Void> jvmBound(Vertx vertx) {
    if (jvmBinding.compareAndSet(false, true)) {
      vertx.executeBlocking(this::bindJvm, false).onComplete(jvmBound);
    }
    return jvmBound.future();
  }

  private synchronized Void bindJvm() {
    if (!closed) {
      List<MeterBinder> binders =
          new ArrayList<>(
              List.of(
                  new ClassLoaderMetrics(),
                  new JvmCompilationMetrics(),
                  new JvmInfoMetrics(),
                  new JvmMemoryMetrics(),
                  new JvmThreadMetrics(),
                  new ProcessorMetrics(),
                  new UptimeMetrics()));
      if (gcPauses) {
        binders.add(new JvmGcMetrics());
        binders.add(new JvmHeapPressureMetrics());
      }
      jvm = List.copyOf(binders);
      jvm.forEach(binder -> binder.bindTo(registry));
      // Each collector's count and total time, as its MXBean keeps them: nothing per collection.
      JvmGarbageCollectorMetrics.builder().register(registry.getPrometheusRegistry());
    }
    return null;
  }

  /**
   * Removes the listeners the JVM's meters registered (the GC's notifications); call once the
   * Vert.x made with {@link #vertx} has closed.
   */
  public synchronized void close() {
    closed = true;
    for (MeterBinder binder : jvm) {
      if (binder instanceof AutoCloseable closeable) {
        try {
          closeable.close();
        } catch (Exception e) {
          // Only a listener would stay behind, in a process on its way out.
        }
      }
    }
  }

  /** Registers the shutdown's series, read from {@code state} at each scrape. */
  void bind(ServiceState state) {
    Gauge.builder("service.lifecycle.phase", state, d -> d.phase().ordinal())
        .description("0 serving, 1 pre-stop delay, 2 draining, 3 stopping components")
        .register(registry);
    Gauge.builder(
            "service.lifecycle.delay.seconds",
            state,
            d -> d.delayMs() < 0 ? Double.NaN : d.delayMs() / 1000.0)
        .description("how long the pre-stop delay lasted; NaN until it has ended")
        .register(registry);
    Gauge.builder("service.lifecycle.delay.ended.quiet", state, d -> d.delayEndedQuiet() ? 1 : 0)
        .description("1 if no traffic for SHUTDOWN_QUIET_MS ended the pre-stop delay early")
        .register(registry);
    Gauge.builder("service.http.requests.in.flight", state, ServiceState::requestsInFlight)
        .description("requests being served or held, over every event loop")
        .register(registry);
    Gauge.builder("service.http.connections", state, ServiceState::connectionsOpen)
        .description("open HTTP connections, over every event loop")
        .register(registry);
    FunctionCounter.builder("service.http.drained.requests", state, d -> d.result().drained())
        .description("requests answered after shutdown began")
        .register(registry);
    FunctionCounter.builder("service.http.aborted.requests", state, d -> d.result().aborted())
        .description("requests answered 503, cut or left unanswered by the shutdown")
        .register(registry);
    FunctionCounter.builder(
            "service.http.connections.refused", state, ServiceState::connectionsRefused)
        .description("connections closed at once because HTTP_MAX_CONNECTIONS were open")
        .register(registry);
    FunctionCounter.builder(
            "service.http.connections.retired", state, ServiceState::connectionsRetired)
        .description("connections told to go for their age (HTTP_MAX_CONNECTION_AGE_MS)")
        .register(registry);
    FunctionCounter.builder(
            "service.http.connections.closed.by.drain",
            state,
            ServiceState::connectionsClosedByDrain)
        .description("connections the shutdown closed")
        .register(registry);
  }

  /**
   * Adds {@code GET /metrics}, the Prometheus text format. The first scrape binds the JVM's meters,
   * and each scrape waits until they are.
   */
  public void route(Router router) {
    router
        .get(PATH)
        .handler(
            ctx -> {
              Future<Void> bound = jvmBound(ctx.vertx());
              if (bound.isComplete()) {
                ctx.next();
              } else {
                Context context = ctx.vertx().getOrCreateContext();
                bound.onComplete(ar -> context.runOnContext(v -> ctx.next()));
              }
            })
        .handler(PrometheusScrapingHandler.create(registry));
  }
}
