package com.example.service.lifecycle;

import java.time.Duration;
import java.util.List;

/**
 * How long a client may take and how much it may send: what keeps one client from holding a
 * connection, a loop or the shutdown hostage. Every key has a default a production service can
 * ship; docs/limits.md says what a client gets for each.
 *
 * @param headTimeout a connection must deliver a complete request head within this, counted from
 *     its first byte (or from the accept, for a connection's first request)
 * @param idleTimeout a keep-alive connection with no request in progress and no byte received for
 *     this long is closed; keep it longer than the proxy's own idle timeout
 * @param maxConnectionAge a connection this old (± 10%) is told to go when its next request
 *     arrives: {@code Connection: close} on that response, or HTTP/2's two GOAWAYs, so that its
 *     client reconnects through the balancer; zero: never
 * @param bodyTimeout a request body must be received within this, counted from its head
 * @param writeTimeout a response that makes no progress for this long is cut and counted aborted
 * @param maxHeaderBytes the largest request head section; beyond it: 431
 * @param maxRequestLineBytes the longest request line; beyond it: 414
 * @param maxBodyBytes the largest request body; beyond it: 413, and the rest is not read
 * @param maxConnections open connections over all event loops; beyond it new ones are closed
 */
public record HttpLimits(
    Duration headTimeout,
    Duration idleTimeout,
    Duration maxConnectionAge,
    Duration bodyTimeout,
    Duration writeTimeout,
    int maxHeaderBytes,
    int maxRequestLineBytes,
    int maxBodyBytes,
    int maxConnections) {

  public static final Config.Key<Duration> HTTP_HEAD_TIMEOUT_MS =
      Config.millis("HTTP_HEAD_TIMEOUT_MS", 1).orElse(Duration.ofSeconds(10));

  /**
   * Longer than the 60 s idle timeout of common proxies and load balancers (see docs/limits.md).
   */
  public static final Config.Key<Duration> HTTP_IDLE_TIMEOUT_MS =
      Config.millis("HTTP_IDLE_TIMEOUT_MS", 1).orElse(Duration.ofSeconds(75));

  /**
   * Off by default: behind an L4 balancer (a Kubernetes Service, HAProxy in {@code mode tcp}) a
   * long-lived connection otherwise stays on the instance it first reached (see docs/limits.md).
   */
  public static final Config.Key<Duration> HTTP_MAX_CONNECTION_AGE_MS =
      Config.millis("HTTP_MAX_CONNECTION_AGE_MS").orElse(Duration.ZERO);

  public static final Config.Key<Duration> HTTP_BODY_TIMEOUT_MS =
      Config.millis("HTTP_BODY_TIMEOUT_MS", 1).orElse(Duration.ofSeconds(30));
  public static final Config.Key<Duration> HTTP_WRITE_TIMEOUT_MS =
      Config.millis("HTTP_WRITE_TIMEOUT_MS", 1).orElse(Duration.ofSeconds(30));

  /** Vert.x's own defaults, kept. */
  public static final Config.Key<Integer> HTTP_MAX_HEADER_BYTES =
      Config.integer("HTTP_MAX_HEADER_BYTES", 1024, 1 << 20).orElse(8192);

  public static final Config.Key<Integer> HTTP_MAX_REQUEST_LINE_BYTES =
      Config.integer("HTTP_MAX_REQUEST_LINE_BYTES", 256, 1 << 20).orElse(4096);

  public static final Config.Key<Integer> HTTP_MAX_BODY_BYTES =
      Config.integer("HTTP_MAX_BODY_BYTES", 0, Integer.MAX_VALUE).orElse(1 << 20);
  public static final Config.Key<Integer> HTTP_MAX_CONNECTIONS =
      Config.integer("HTTP_MAX_CONNECTIONS", 1, 1_000_000).orElse(10_000);

  /** The keys, in the order of the README's table. */
  public static final List<Config.Key<?>> KEYS =
      List.of(
          HTTP_HEAD_TIMEOUT_MS,
          HTTP_IDLE_TIMEOUT_MS,
          HTTP_MAX_CONNECTION_AGE_MS,
          HTTP_BODY_TIMEOUT_MS,
          HTTP_WRITE_TIMEOUT_MS,
          HTTP_MAX_HEADER_BYTES,
          HTTP_MAX_REQUEST_LINE_BYTES,
          HTTP_MAX_BODY_BYTES,
          HTTP_MAX_CONNECTIONS);

  /**
   * What a client is told for a body over {@link #maxBodyBytes}: the same words whether the guard
   * refused a declared length or a route's {@code BodyHandler} counted a chunked body past it.
   */
  public String bodyTooLarge() {
    return "request body larger than " + maxBodyBytes + " bytes";
  }

  /**
   * Whether a request's {@code Content-Length} declares a body over {@link #maxBodyBytes}; one that
   * is absent or not a number does not (the codec refuses the latter).
   */
  public boolean declaresTooLarge(String contentLength) {
    if (contentLength == null) {
      return false;
    }
    try {
      return Long.parseLong(contentLength.trim()) > maxBodyBytes;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /** Reads the limits from a configuration loaded with {@link #KEYS}. */
  public static HttpLimits from(Config config) {
    return new HttpLimits(
        config.get(HTTP_HEAD_TIMEOUT_MS),
        config.get(HTTP_IDLE_TIMEOUT_MS),
        config.get(HTTP_MAX_CONNECTION_AGE_MS),
        config.get(HTTP_BODY_TIMEOUT_MS),
        config.get(HTTP_WRITE_TIMEOUT_MS),
        config.get(HTTP_MAX_HEADER_BYTES),
        config.get(HTTP_MAX_REQUEST_LINE_BYTES),
        config.get(HTTP_MAX_BODY_BYTES),
        config.get(HTTP_MAX_CONNECTIONS));
  }
}
