package com.example.service.lifecycle;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What the lifecycle needs to know, read from the lifecycle's own {@link #KEYS}.
 *
 * @param host address the HTTP server binds to
 * @param port port the HTTP server binds to; 0 picks a free port
 * @param instances HTTP verticle instances, one event loop each
 * @param delay how long to keep serving after a shutdown signal, with readiness failing
 * @param quiet ends the delay early once this long has passed since the signal and since the last
 *     request that is not a probe or a scrape; zero: the delay always lasts {@code delay}
 * @param timeout the shutdown budget after the delay: draining, aborting and stopping components
 * @param idleGrace how long a keep-alive connection must be quiet before the drain closes it
 * @param limits timeouts and limits every connection and request is held to
 * @param metrics whether {@code /metrics} serves Prometheus metrics (and Vert.x collects them)
 * @param accessLog whether each request is logged
 * @param http2 whether HTTP/2 with prior knowledge (h2c) is served beside HTTP/1.1 on the port
 * @param http2Upgrade whether a request asking for {@code Upgrade: h2c} switches to HTTP/2 too
 * @param managementHost address the management listener binds to
 * @param managementPort port of the listener that serves the probes and metrics instead of the
 *     service port; -1: none, they are on the service port
 */
public record LifecycleOptions(
    String host,
    int port,
    int instances,
    Duration delay,
    Duration quiet,
    Duration timeout,
    Duration idleGrace,
    HttpLimits limits,
    boolean metrics,
    boolean accessLog,
    boolean http2,
    boolean http2Upgrade,
    String managementHost,
    int managementPort) {

  public static final Config.Key<String> HTTP_HOST = Config.text("HTTP_HOST").orElse("0.0.0.0");
  public static final Config.Key<Integer> HTTP_PORT =
      Config.integer("HTTP_PORT", 0, 65_535).orElse(8080);

  /** Defaults to the processors the JVM may use, which is container-aware. */
  public static final Config.Key<Integer> HTTP_INSTANCES =
      Config.integer("HTTP_INSTANCES", 1, 256)
          .orElseGet(() -> Math.min(256, Runtime.getRuntime().availableProcessors()));

  public static final Config.Key<Duration> SHUTDOWN_DELAY_MS =
      Config.millis("SHUTDOWN_DELAY_MS").orElse(Duration.ZERO);

  /**
   * Ends the pre-stop delay once traffic has left: no request but probes and scrapes for this long
   * (and this long since the signal). At most {@link #SHUTDOWN_DELAY_MS}; 0 is a fixed delay.
   */
  public static final Config.Key<Duration> SHUTDOWN_QUIET_MS =
      Config.millis("SHUTDOWN_QUIET_MS").orElse(Duration.ZERO);

  public static final Config.Key<Duration> SHUTDOWN_TIMEOUT_MS =
      Config.millis("SHUTDOWN_TIMEOUT_MS").orElse(Duration.ofSeconds(30));
  public static final Config.Key<Duration> SHUTDOWN_IDLE_MS =
      Config.millis("SHUTDOWN_IDLE_MS").orElse(Duration.ofSeconds(1));

  public static final Config.Key<Boolean> METRICS_ENABLED =
      Config.bool("METRICS_ENABLED").orElse(true);

  /**
   * The library's per-request HTTP metrics: off by default for their cost (see {@link Metrics}).
   */
  public static final Config.Key<Boolean> METRICS_HTTP_REQUESTS =
      Config.bool("METRICS_HTTP_REQUESTS").orElse(false);

  /**
   * Micrometer's meters of each garbage collection: off by default for their cost (see {@link
   * Metrics#prometheus}); each collector's collections and their time are there without them.
   */
  public static final Config.Key<Boolean> METRICS_GC_PAUSES =
      Config.bool("METRICS_GC_PAUSES").orElse(false);

  /** {@code text}: one line a person reads; {@code json}: one object per line for a log shipper. */
  public static final Config.Key<String> LOG_FORMAT =
      Config.oneOf("LOG_FORMAT", "text", "json").orElse("text");

  public static final Config.Key<Boolean> ACCESS_LOG = Config.bool("ACCESS_LOG").orElse(false);

  /** Cleartext HTTP/2 (h2c, prior knowledge) on the HTTP port, beside HTTP/1.1. */
  public static final Config.Key<Boolean> HTTP2_ENABLED = Config.bool("HTTP2_ENABLED").orElse(true);

  /**
   * Off by default: the JDK's HttpClient before JDK 24 asks for this upgrade with its defaults and
   * then fails its requests in flight on the drain's GOAWAY (see docs/shutdown.md).
   */
  public static final Config.Key<Boolean> HTTP2_UPGRADE =
      Config.bool("HTTP2_UPGRADE").orElse(false);

  /**
   * Serves {@code /health/live}, {@code /health/ready} and {@code /metrics} on a listener of their
   * own (and not on the service port), which is not drained: unset, they are on the service port.
   */
  public static final Config.Key<Integer> MANAGEMENT_PORT =
      Config.integer("MANAGEMENT_PORT", 0, 65_535).orElse(null);

  /** Unset: {@link #HTTP_HOST}. */
  public static final Config.Key<String> MANAGEMENT_HOST =
      Config.text("MANAGEMENT_HOST").orElse(null);

  /** The lifecycle's keys, in the order of the README's table. */
  public static final List<Config.Key<?>> KEYS = keys();

  /**
   * The keys a service running {@code application} reads: the lifecycle's, then the application's.
   */
  public static List<Config.Key<?>> keysWith(Application application) {
    List<Config.Key<?>> keys = new ArrayList<>(KEYS);
    keys.addAll(application.keys());
    return keys;
  }

  private static List<Config.Key<?>> keys() {
    List<Config.Key<?>> keys =
        new ArrayList<>(
            List.of(
                HTTP_HOST,
                HTTP_PORT,
                HTTP_INSTANCES,
                HTTP2_ENABLED,
                HTTP2_UPGRADE,
                MANAGEMENT_PORT,
                MANAGEMENT_HOST,
                SHUTDOWN_DELAY_MS,
                SHUTDOWN_QUIET_MS,
                SHUTDOWN_TIMEOUT_MS,
                SHUTDOWN_IDLE_MS));
    keys.addAll(HttpLimits.KEYS);
    keys.addAll(
        List.of(METRICS_ENABLED, METRICS_HTTP_REQUESTS, METRICS_GC_PAUSES, LOG_FORMAT, ACCESS_LOG));
    return List.copyOf(keys);
  }

  /**
   * Reads the lifecycle's keys from a configuration loaded with them.
   *
   * @throws Config.ConfigException when two keys disagree: a quiet period longer than the delay, or
   *     the management listener on the service's host and port
   */
  public static LifecycleOptions from(Config config) {
    Duration delay = config.get(SHUTDOWN_DELAY_MS);
    Duration quiet = config.get(SHUTDOWN_QUIET_MS);
    if (quiet.compareTo(delay) > 0) {
      throw new Config.ConfigException(
          "invalid SHUTDOWN_QUIET_MS="
              + quiet.toMillis()
              + ": the quiet period ends the pre-stop delay early, so it must not exceed"
              + " SHUTDOWN_DELAY_MS="
              + delay.toMillis());
    }
    String host = config.get(HTTP_HOST);
    int port = config.get(HTTP_PORT);
    String managementHost =
        config.get(MANAGEMENT_HOST) == null ? host : config.get(MANAGEMENT_HOST);
    Integer managementPort = config.get(MANAGEMENT_PORT);
    if (managementPort != null
        && managementPort != 0
        && managementPort == port
        && managementHost.equals(host)) {
      // Vert.x would not fail to bind it: it shares a host and port between servers, and would
      // hand the service's connections to the probes' server and back.
      throw new Config.ConfigException(
          "invalid MANAGEMENT_PORT="
              + managementPort
              + ": it is HTTP_PORT's, and the probes and metrics need a listener of their own");
    }
    return new LifecycleOptions(
        host,
        port,
        config.get(HTTP_INSTANCES),
        delay,
        quiet,
        config.get(SHUTDOWN_TIMEOUT_MS),
        config.get(SHUTDOWN_IDLE_MS),
        HttpLimits.from(config),
        config.get(METRICS_ENABLED),
        config.get(ACCESS_LOG),
        config.get(HTTP2_ENABLED),
        config.get(HTTP2_UPGRADE),
        managementHost,
        managementPort == null ? -1 : managementPort);
  }
}
