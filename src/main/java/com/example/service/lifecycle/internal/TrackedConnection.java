package com.example.service.lifecycle.internal;

import io.vertx.core.Promise;
import io.vertx.core.http.HttpConnection;
import java.util.ArrayList;
import java.util.List;

/** One accepted connection, as its loop's {@link LoopConnections} tracks it. */
final class TrackedConnection {

  /** Its state; {@link ConnectionStates#set} is the one place that changes it and the counts. */
  enum State {
    /**
     * No request in progress: a connection a client may be reusing now. An HTTP/2 connection stays
     * here, whatever its streams, until its second GOAWAY.
     */
    IDLE,
    /**
     * The client opened with the HTTP/2 preface (or upgraded), and Vert.x's HTTP/2 connection has
     * not arrived yet: to the drain it is as idle as an idle HTTP/1 connection, its first streams
     * on their way, and the loop has no quiet moment while it is here.
     */
    SWITCHING,
    BUSY,
    /** The drain or Vert.x is closing it; never idle again. */
    CLOSING,
    CLOSED
  }

  final HttpConnection connection;
  final boolean http2;
  final Promise<Void> closed = Promise.promise();

  /** HTTP/1 only. */
  ConnectionGuard guard;

  /**
   * HTTP/2 only: when a response's last bytes leave. A stream's record is its request while the
   * loop serves, and its {@link Exchange} once a drain (or a long-lived route) needs one.
   */
  Http2Streams streams;

  /** HTTP/2: the first GOAWAY is sent. */
  boolean goingAway;

  /**
   * When it is old enough to be told to go ({@code HTTP_MAX_CONNECTION_AGE_MS}, with its jitter);
   * only read when that is on.
   */
  long retireAtNanos;

  /**
   * Told to go for its age, before any drain: HTTP/1, after the response that said so; HTTP/2, when
   * its streams end, however late.
   */
  boolean retired;

  /** HTTP/2: when a response last ended on it, or when it was accepted. */
  long lastEndNanos = System.nanoTime();

  /** HTTP/2, during the hold: the timer that tells it to go once no response has ended lately. */
  long goAwayTimer = -1;

  /**
   * HTTP/1: at most one, as its guard ends a response before Vert.x starts the next request.
   * HTTP/2: one per stream in progress since a drain began (or a long-lived route asked); streams
   * opened while serving have theirs made then ({@link LoopConnections}).
   */
  final List<Exchange> exchanges = new ArrayList<>(2);

  State state;
  long idleTimer = -1;

  TrackedConnection(HttpConnection connection) {
    this.connection = connection;
    this.http2 = Internals.isHttp2(connection);
  }
}
