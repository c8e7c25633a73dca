package com.example.service.lifecycle.internal;

import com.example.service.lifecycle.internal.LoopDrain.Phase;
import com.example.service.lifecycle.internal.TrackedConnection.State;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;

/**
 * One event loop's connections by {@link State}: the one place a connection's state changes, the
 * per-state counts kept with it, and the two ways a connection is closed (once its output is out,
 * or once it has been idle for the grace). Everything runs on the loop.
 */
final class ConnectionStates {

  private final Vertx vertx;
  private final Thread thread;
  private final HttpDrain shared;
  private final LoopDrain drain;
  private final long idleMs;
  private final Http2GoAway goAway;

  /** Connections per state, indexed by ordinal: on every request's path, so no boxing. */
  private final int[] counts = new int[State.values().length];

  ConnectionStates(Vertx vertx, HttpDrain shared, LoopDrain drain) {
    this.vertx = vertx;
    this.thread = Thread.currentThread();
    this.shared = shared;
    this.drain = drain;
    this.idleMs = shared.idleGraceMs();
    this.goAway = new Http2GoAway(vertx, drain, idleMs, conn -> close(conn, false));
  }

  /** The HTTP/2 connections' GOAWAYs, which close them through {@link #close}. */
  Http2GoAway goAway() {
    return goAway;
  }

  /** How many of this loop's connections are in {@code state}. */
  int count(State state) {
    return counts[state.ordinal()];
  }

  /** The one place a connection's state and the per-state counts change. */
  void set(TrackedConnection conn, State next) {
    assert Thread.currentThread() == thread;
    State previous = conn.state;
    if (previous == next) {
      return;
    }
    if (previous != null) {
      counts[previous.ordinal()]--;
    }
    counts[next.ordinal()]++;
    conn.state = next;
    if (next == State.CLOSING || next == State.CLOSED) {
      vertx.cancelTimer(conn.idleTimer);
      vertx.cancelTimer(conn.goAwayTimer);
    }
    if (previous == State.IDLE || previous == State.SWITCHING) {
      drain.checkQuiet();
    }
  }

  /**
   * Closes a connection once its output is out.
   *
   * @param afterResponse a response has just ended on it, which must reach the client
   */
  void close(TrackedConnection conn, boolean afterResponse) {
    if (conn.state == State.CLOSING || conn.state == State.CLOSED) {
      return;
    }
    if (conn.http2 && drain.phase() == Phase.HOLDING) {
      // Before the state change, which may make the loop quiet: its client may reconnect now.
      drain.invited();
    }
    set(conn, State.CLOSING);
    if (drain.phase() != Phase.SERVING) {
      shared.countClosedByDrain();
    }
    if (!conn.http2) {
      conn.guard.closeWhenFlushed(afterResponse);
      return;
    }
    goAway.last(conn);
  }

  /**
   * An HTTP/1 response has ended on a busy connection. Vert.x closes a connection only when the
   * request asked to; a response saying so (the drain's, or a 413 whose body was not read) has it
   * closed here. Otherwise, with no request left, it is idle again.
   */
  void responseEnded(TrackedConnection conn, HttpServerResponse response) {
    boolean draining = drain.phase() != Phase.SERVING;
    if (response.headers().contains(HttpHeaders.CONNECTION, HttpHeaders.CLOSE, true)) {
      if (draining || conn.retired) {
        // Its client reconnects now: a drain beginning meanwhile lets that connection land.
        drain.invited();
      }
      close(conn, true);
    } else if (conn.exchanges.isEmpty()) {
      set(conn, State.IDLE);
      if (draining) {
        closeWhenIdle(conn);
      }
    }
  }

  /**
   * Closes an HTTP/1 connection once it has been idle for the grace; starts an HTTP/2 connection's
   * two GOAWAYs ({@link Http2GoAway}).
   */
  void closeWhenIdle(TrackedConnection conn) {
    if (conn.http2) {
      goAway.first(conn);
      return;
    }
    vertx.cancelTimer(conn.idleTimer);
    long quietMs = conn.guard.quietNanos() / 1_000_000;
    conn.idleTimer =
        vertx.setTimer(
            Math.max(1, idleMs - quietMs),
            id -> {
              if (conn.state == State.IDLE) {
                close(conn, false);
              }
            });
  }
}
