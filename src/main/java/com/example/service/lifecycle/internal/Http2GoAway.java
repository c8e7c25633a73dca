package com.example.service.lifecycle.internal;

import static java.util.concurrent.TimeUnit.MILLISECONDS;

import com.example.service.lifecycle.internal.LoopDrain.Phase;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.util.function.Consumer;

/**
 * Tells an HTTP/2 connection to go in two steps, as gRPC and h2o do: the first GOAWAY, with the
 * highest stream id, tells the client to open no more streams without refusing one on its way; the
 * PING sent with it comes back once the client has read it, so every stream it opened before has
 * arrived; then the second GOAWAY names the real last stream, and the connection closes when its
 * last stream ends. The drain uses it, and so do the idle timeout and the maximum connection age.
 */
final class Http2GoAway {

  /** What the drain's PING carries; its ack is all that matters. */
  private static final Buffer PING = Buffer.buffer("draining");

  private final Vertx vertx;
  private final LoopDrain drain;
  private final long idleMs;
  private final Consumer<TrackedConnection> close;

  /**
   * @param idleMs how long the PING's ack may take
   * @param close closes a connection once the ack is in (its state changes, then {@link #last})
   */
  Http2GoAway(Vertx vertx, LoopDrain drain, long idleMs, Consumer<TrackedConnection> close) {
    this.vertx = vertx;
    this.drain = drain;
    this.idleMs = idleMs;
    this.close = close;
  }

  /** The first GOAWAY and the PING, once; the ack (or the grace) closes the connection. */
  void first(TrackedConnection conn) {
    if (conn.goingAway) {
      return;
    }
    conn.goingAway = true;
    if (drain.phase() == Phase.HOLDING || conn.retired) {
      // A client with nothing in flight may reconnect at once: the listener waits for it to land
      // (a drain may begin right after a retirement).
      drain.invited();
    }
    Internals.goAway(conn.connection, Integer.MAX_VALUE);
    conn.connection.ping(PING).timeout(idleMs, MILLISECONDS).onComplete(ar -> close.accept(conn));
  }

  /**
   * The second GOAWAY, naming the last stream the client opened; Netty then closes the connection
   * when its last stream ends (or at the deadline; before a drain, a connection gone idle gives a
   * stream opened between the GOAWAYs as long as an idle connection lasts, and one retired for its
   * age gives its streams as long as they take, until a drain's deadline).
   */
  void last(TrackedConnection conn) {
    Internals.goAway(conn.connection, -1);
    if (conn.retired && drain.phase() == Phase.SERVING) {
      // Retired for its age, it waits for its streams however long they last (an event stream may
      // last hours): each is held to its own timeouts, and a drain gives it its deadline (bound).
      Internals.closeWhenStreamsEnd(conn.connection);
      return;
    }
    conn.connection.shutdown(drain.closeGraceMs(), MILLISECONDS);
  }

  /**
   * The drain begins: a connection retired for its age and still closing is closed by the drain's
   * deadline at the latest, as every other is. Netty arms a timer for this second close.
   */
  void bound(TrackedConnection conn) {
    conn.connection.shutdown(drain.closeGraceMs(), MILLISECONDS);
  }

  /**
   * While the loop holds its listener open, the first GOAWAY goes once every stream the client has
   * open is held and no response has ended on the connection for the settle time: by then the
   * client has read every answer it will get before the socket closes. A client told to open no
   * more streams while it is still reading answers opens its next streams in reaction to them and
   * finds them refused before they are sent; one told while it has no stream in flight either
   * reconnects at once (the kernel may then accept it as the socket closes) or, if it does not
   * reconnect over HTTP/2 (h2load), fails the requests it could not send. With only held streams in
   * flight, and none answered lately, it waits for their answers, which come once the socket is
   * closed.
   */
  void onceInUse(TrackedConnection conn) {
    if (conn.goingAway
        || conn.state == TrackedConnection.State.CLOSING
        || conn.state == TrackedConnection.State.CLOSED) {
      return;
    }
    for (Exchange exchange : conn.exchanges) {
      if (!exchange.held) {
        return; // called again when it ends
      }
    }
    long waitMs = drain.settleMs() - (System.nanoTime() - conn.lastEndNanos) / 1_000_000;
    if (waitMs <= 0) {
      first(conn);
    } else if (conn.goAwayTimer < 0) {
      conn.goAwayTimer =
          vertx.setTimer(
              waitMs,
              id -> {
                conn.goAwayTimer = -1;
                if (drain.phase() == Phase.HOLDING) {
                  onceInUse(conn);
                }
              });
    }
  }
}
