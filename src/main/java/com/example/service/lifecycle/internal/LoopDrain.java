package com.example.service.lifecycle.internal;

import static java.util.concurrent.TimeUnit.MILLISECONDS;

import com.example.service.lifecycle.LongLived;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Timer;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.util.function.Supplier;

/**
 * One event loop's share of the {@link HttpDrain}: its phase, and what each phase does with the
 * loop's {@link LoopConnections}. Every method runs on that loop, so nothing here is locked.
 *
 * <p>Why no request is lost, and why a reconnecting client meets a closed listener:
 *
 * <ul>
 *   <li>The drain never sends Vert.x's shutdown event ({@code server.shutdown}): it closes a
 *       connection with no request in progress at once, racing a client that is sending its next
 *       request, and a busy one right after its response, which may not have said {@code
 *       Connection: close}. The listening socket, which every loop shares, is closed directly
 *       ({@link HttpDrain#stopAccepting}) once every loop has had its quiet moment: every one of
 *       its HTTP/1 connections holds a request (none idle, none running one that could end
 *       unannounced), and no client it told to reconnect may still be on its way; or after the idle
 *       grace at the latest, when what still runs is told to close. Until then each loop stays in
 *       the acceptor's rotation and tracks what it is handed: a loop that left it while the socket
 *       still accepted (what {@code server.shutdown} does) would have a connection the acceptor had
 *       already handed to it closed unread (Vert.x 5.0.10's {@code
 *       ServerChannelLoadBalancer.initChannel} closes a channel whose loop has no worker left). And
 *       the kernel completes connections into the listening socket's accept queue before any loop
 *       takes them; closing the socket resets those, after their client has sent its request. So a
 *       loop's quiet moment also waits until no connection of its own may make a client reconnect
 *       soon: no request running, on either protocol, and none closed within the settle time
 *       ({@link LoopConnections#quiet}, {@link #invited}).
 *   <li>From the start of the drain, requests are <em>held</em>: tracked, but not handed to the
 *       routes. A held request keeps its connection busy, so every connection a client is using
 *       becomes busy within one round trip, and the loop reaches that moment. A connection left
 *       unused for the idle grace is closed, as any keep-alive timeout would.
 *   <li>No response tells a client to reconnect while the listening socket may still accept it:
 *       held requests are released, with {@code Connection: close}, only once the socket is closed
 *       ({@link HttpDrain}). Their clients' reconnects are refused by the kernel before anything is
 *       sent, which every client library treats as "this server is gone".
 *   <li>HTTP/2 has a way to say "no more streams" that HTTP/1.1 lacks, but a single GOAWAY races
 *       the streams a client is opening: from the start of the drain each HTTP/2 connection gets a
 *       GOAWAY with the highest stream id (refusing nothing) and a PING, once every stream its
 *       client has open is held and no response has ended on it for the settle time ({@code
 *       Http2GoAway#onceInUse}); the PING's ack proves the client has seen it, so the second GOAWAY
 *       names the real last stream, and the connection closes when its last stream ends. A loop has
 *       its quiet moment only once every HTTP/2 connection it has had its second GOAWAY, and its
 *       clients' reconnects have had time to land. One that arrives after that moment, while other
 *       loops still accept, has its streams held and is told to go only once the socket is closed
 *       (see {@code tellsHttp2ToGo}).
 *   <li>A WebSocket or server-sent event stream registered with {@link LongLived} is told to go
 *       away at the start of the drain, and counts as drained when it ends.
 * </ul>
 */
final class LoopDrain {

  /** The loop's phase; what a connection or request gets in each is decided here alone. */
  enum Phase {
    SERVING,
    /** Pre-stop delay: responses carry Connection: close so clients move elsewhere. */
    DELAY,
    /** Requests are held until this loop may close its listener without cutting a connection. */
    HOLDING,
    /** This loop accepts no more; requests are held until the socket is really closed. */
    LISTENER_CLOSED,
    /** The socket is closed: held requests run, every response closes its connection. */
    RELEASED,
    /**
     * The deadline passed: requests are held until the socket is really closed, since a 503 tells
     * its client to reconnect.
     */
    ABORTING,
    /** The deadline passed and the socket is closed: what is left was answered 503 or cut. */
    ABORTED
  }

  private final Vertx vertx;
  private final Context context;
  private final HttpDrain shared;
  private final LoopConnections connections;
  private final long idleMs;
  private final long idleTimeoutMs;
  private HttpServer server;
  private Phase phase = Phase.SERVING;
  private boolean closedSocket;
  private Deadline deadline;
  private Promise<Void> released;

  /** When a client was last told to reconnect; initially long ago. */
  private long lastInvitedNanos = System.nanoTime() - Long.MAX_VALUE / 2;

  /** How long a client told to reconnect may take to reach the listener: a tenth of the grace. */
  private final long settleMs;

  private long settleTimer = -1;

  /**
   * During the pre-stop delay: when this loop last saw a request that is not a probe or a scrape,
   * or the delay began. Written on the loop, read by {@link PreStopDelay} through the {@link
   * HttpDrain}.
   */
  private volatile long lastTrafficNanos;

  LoopDrain(Vertx vertx, Context context, HttpDrain shared, ConnectionGuard.Settings guard) {
    this.vertx = vertx;
    this.context = context;
    this.shared = shared;
    this.idleMs = shared.idleGraceMs();
    this.idleTimeoutMs = guard.limits().idleTimeout().toMillis();
    this.settleMs = idleMs / 10;
    this.connections = new LoopConnections(vertx, shared, guard, this);
    // For LongLived, found through the request's context: nothing to store per request.
    context.put(LoopConnections.KEY, connections);
  }

  /** The loop's connections: the server's request handler and its connection handler. */
  LoopConnections connections() {
    return connections;
  }

  /** Runs {@code action} on this loop. */
  <T> Future<T> onLoop(Supplier<Future<T>> action) {
    Promise<T> done = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(done));
    return done.future();
  }

  /** The server this loop serves, once it listens. */
  void listening(HttpServer server) {
    this.server = server;
  }

  Phase phase() {
    return phase;
  }

  /** From the start of the drain on. */
  boolean draining() {
    return phase != Phase.SERVING && phase != Phase.DELAY;
  }

  /**
   * Whether a new HTTP/2 connection is told to go (two GOAWAYs) at once: while this loop holds its
   * listener open, as part of reaching its quiet moment, and once the socket is closed, when its
   * client's reconnect is refused. Not in between, when other loops still accept: its client would
   * reconnect at once, be told to go again, and so on, until one reconnect is caught in the
   * kernel's accept queue as the socket closes. Such a connection is told at {@link #release}.
   */
  boolean tellsHttp2ToGo() {
    return phase == Phase.HOLDING || phase == Phase.RELEASED || phase == Phase.ABORTED;
  }

  /** Whether a response that starts now carries Connection: close. */
  boolean marksClose() {
    return phase == Phase.DELAY || phase == Phase.RELEASED || phase == Phase.ABORTED;
  }

  /** Whether a request that arrives now is held. */
  boolean holds() {
    return phase == Phase.HOLDING || phase == Phase.LISTENER_CLOSED || phase == Phase.ABORTING;
  }

  /** How long a closing HTTP/2 connection's streams may take. */
  long closeGraceMs() {
    return deadline != null ? deadline.untilMs(deadline.componentsMs()) : idleTimeoutMs;
  }

  /** How long a client told to reconnect may take to reach the listener. */
  long settleMs() {
    return settleMs;
  }

  /** A client has just been told to reconnect. */
  void invited() {
    lastInvitedNanos = System.nanoTime();
  }

  /** The pre-stop delay begins: responses close their connections, idle ones close after grace. */
  Future<Void> beginDelay() {
    lastTrafficNanos = System.nanoTime();
    phase = Phase.DELAY;
    connections.delay();
    return Future.succeededFuture();
  }

  /** A request that is not a probe or a scrape arrived during the delay. */
  void trafficSeen() {
    lastTrafficNanos = System.nanoTime();
  }

  long lastTrafficNanos() {
    return lastTrafficNanos;
  }

  /**
   * Holds new requests, closes this loop's listener at the first quiet moment (or after the idle
   * grace), runs the held requests once the socket is closed, and at the deadline answers the rest
   * 503.
   *
   * @return completes when this loop is drained (its counts go to the {@link HttpDrain}); never
   *     fails
   */
  Future<Void> drain(Deadline deadline) {
    boolean fromServing = phase == Phase.SERVING;
    phase = Phase.HOLDING;
    // Set first: a stream told to go away may end at once and make the loop quiet.
    this.deadline = deadline;
    released = Promise.promise();
    connections.drain(fromServing);
    long untilAbortMs = deadline.untilMs(deadline.requestsMs());
    Timer bound = vertx.timer(Math.max(1, Math.min(idleMs, untilAbortMs)), MILLISECONDS);
    bound.onSuccess(v -> closeListener());
    Timer abortAt = vertx.timer(untilAbortMs, MILLISECONDS);
    checkQuiet();
    Future<Void> settled = released.future().compose(v -> connections.settle());
    return Future.any(settled, abortAt)
        .compose(
            v -> {
              bound.cancel();
              if (settled.succeeded()) {
                abortAt.cancel();
                return Future.succeededFuture();
              }
              return abort()
                  .compose(
                      aborted ->
                          connections
                              .settle()
                              .timeout(deadline.untilMs(deadline.abortedMs()), MILLISECONDS));
            })
        .transform(v -> Future.succeededFuture());
  }

  /**
   * Closes this loop's listener once every open connection holds a request, and no client told to
   * reconnect may still be on its way: a request in progress could otherwise end without {@code
   * Connection: close} and be followed at once by one the closed listener would cut, and a client
   * reconnecting could be caught in the kernel's accept queue as the socket closes.
   */
  void checkQuiet() {
    if (phase != Phase.HOLDING || !connections.quiet()) {
      return;
    }
    long sinceInvitedMs = (System.nanoTime() - lastInvitedNanos) / 1_000_000;
    if (sinceInvitedMs < settleMs) {
      if (settleTimer < 0) {
        settleTimer =
            vertx.setTimer(
                settleMs - sinceInvitedMs,
                id -> {
                  settleTimer = -1;
                  checkQuiet();
                });
      }
      return;
    }
    closeListener();
  }

  /**
   * Stops this loop accepting. Its responses in progress are told to close ({@link LoopConnections}
   * closes their connections after them); held requests wait for the socket to be closed.
   */
  private void closeListener() {
    if (phase != Phase.HOLDING) {
      return;
    }
    phase = Phase.LISTENER_CLOSED;
    connections.listenerClosing();
    stopAccepting(deadline.untilMs(deadline.componentsMs()));
  }

  /** Leaves the acceptor's rotation; the last loop to leave has the socket closed. */
  private void stopAccepting(long graceMs) {
    shared.stopAccepting(graceMs, last -> closedSocket = last);
    if (closedSocket) {
      // The acceptor thread closes the socket; the kernel says when it no longer listens.
      shared.listenerClosed(vertx);
    }
  }

  /** Vert.x's own shutdown of this loop's server, for a drain that never accepted a connection. */
  Future<Void> shutdownServer(long graceMs) {
    return server.shutdown(graceMs, MILLISECONDS);
  }

  /** The socket is closed: run the held requests, each telling its client to close. */
  Future<Void> release() {
    if (phase == Phase.LISTENER_CLOSED) {
      phase = Phase.RELEASED;
      connections.release();
    }
    if (released != null) {
      released.tryComplete();
    }
    return Future.succeededFuture();
  }

  /**
   * At the deadline: stops accepting if this loop still did and, once the socket is closed (or the
   * time for aborted responses is up), answers what is left 503 or cuts it.
   */
  private Future<Void> abort() {
    boolean listening = phase == Phase.HOLDING;
    phase = Phase.ABORTING;
    if (listening) {
      stopAccepting(deadline.untilMs(deadline.abortedMs()));
    }
    return released
        .future()
        .timeout(deadline.untilMs(deadline.abortedMs()), MILLISECONDS)
        .transform(
            closed -> {
              phase = Phase.ABORTED;
              connections.abort();
              return Future.succeededFuture();
            });
  }
}
