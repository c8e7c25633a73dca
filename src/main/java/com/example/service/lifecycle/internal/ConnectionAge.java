package com.example.service.lifecycle.internal;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code HTTP_MAX_CONNECTION_AGE_MS}: a connection older than the age tells its client to go with
 * the response to its next request, so that the client reconnects through the balancer while the
 * listener is open. Only while serving: a drain tells every connection to go anyway.
 */
final class ConnectionAge {

  /** 0: connections are not retired for their age. */
  private final long maxAgeNanos;

  private final HttpDrain shared;
  private final Http2GoAway goAway;

  ConnectionAge(Duration maxAge, HttpDrain shared, Http2GoAway goAway) {
    this.maxAgeNanos = maxAge.toNanos();
    this.shared = shared;
    this.goAway = goAway;
  }

  /** A new connection draws its age. */
  void track(TrackedConnection conn) {
    if (maxAgeNanos > 0) {
      // ± 10%: a fleet's connections, opened together after a restart, do not all go together.
      conn.retireAtNanos =
          System.nanoTime()
              + ThreadLocalRandom.current()
                  .nextLong(maxAgeNanos * 9 / 10, maxAgeNanos * 11 / 10 + 1);
    }
  }

  /**
   * A request arrived while serving: on a connection old enough to go, its response tells an HTTP/1
   * client to close it (unless it is a WebSocket's handshake: the socket lives on as the
   * WebSocket), and an HTTP/2 client gets the two GOAWAYs, its streams in progress served.
   */
  void requested(TrackedConnection conn, HttpServerRequest request) {
    // Not any Upgrade: the JDK's client asks every new connection to upgrade to h2c. An HTTP/2
    // connection the idle timeout told to go is going already.
    if (maxAgeNanos == 0
        || System.nanoTime() - conn.retireAtNanos < 0
        || conn.retired
        || conn.goingAway
        || !conn.http2 && request.canUpgradeToWebSocket()) {
      return;
    }
    conn.retired = true;
    shared.countRetired();
    if (conn.http2) {
      goAway.first(conn);
    } else {
      // Its head is not written: the request has only just arrived.
      request.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
    }
  }
}
