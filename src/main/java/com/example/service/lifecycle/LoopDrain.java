package com.example.service.lifecycle;

import static java.util.concurrent.TimeUnit.MILLISECONDS;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Timer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.logging.Level;

/**
 * One event loop's share of the {@link HttpDrain}: its connections, their requests, and its phase.
 * Every method runs on that loop (asserted), so nothing here is locked.
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
 *       ServerChannelLoadBalancer.initChannel} closes a channel whose loop has no worker left).
 *   <li>From the start of the drain, requests are <em>held</em>: tracked, but not handed to the
 *       routes. A held request keeps its connection busy, so every connection a client is using
 *       becomes busy within one round trip, and the loop reaches that moment. A connection left
 *       unused for the idle grace is closed, as any keep-alive timeout would.
 *   <li>No response tells a client to reconnect while the listening socket may still accept it:
 *       held requests are released, with {@code Connection: close}, only once the socket is closed
 *       ({@link HttpDrain}). Their clients' reconnects are refused by the kernel before anything is
 *       sent, which every client library treats as "this server is gone".
 *   <li>HTTP/2 has a way to say "no more streams" that HTTP/1.1 lacks, but a single GOAWAY races
 *       the streams a client is opening: at the start of the drain each HTTP/2 connection gets a
 *       GOAWAY with the highest stream id (refusing nothing) and a PING; the PING's ack proves the
 *       client has seen it, so the second GOAWAY names the real last stream, and the connection
 *       closes when its last stream ends. A loop has its quiet moment only once every HTTP/2
 *       connection it has had its second GOAWAY, and its clients' reconnects have had time to land.
 *       One that arrives after that moment, while other loops still accept, has its streams held
 *       and is told to go only once the socket is closed (see {@code tellsHttp2ToGo}).
 *   <li>A WebSocket or server-sent event stream registered with {@link LongLived} is told to go
 *       away at the start of the drain, and counts as drained when it ends.
 * </ul>
 */
final class LoopDrain implements Handler<RoutingContext> {

  /** The loop's phase; {@link #marksClose()} and {@link #holds()} derive from it alone. */
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
    /** The deadline passed: what is left was answered 503 or cut. */
    ABORTED
  }

  /** A connection's state; {@link #setState} is the one place that changes it and the counts. */
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

  /** Where {@link LongLived} finds this loop in a routing context. */
  static final String KEY = "lifecycle.loop";

  private final Vertx vertx;
  private final Context context;
  private final Thread thread;
  private final HttpDrain shared;
  private final ConnectionGuard.Settings guard;
  private final long idleMs;
  private final Map<HttpConnection, Conn> connections = new HashMap<>();

  /** Connections per state, indexed by ordinal: on every request's path, so no boxing. */
  private final int[] counts = new int[State.values().length];

  private final List<Exchange> held = new ArrayList<>();
  private HttpServer server;
  private Phase phase = Phase.SERVING;
  private boolean closedSocket;
  private Deadline deadline;
  private Promise<Void> released;

  /** When a response last told its client to reconnect; initially long ago. */
  private long lastInvitedNanos = System.nanoTime() - Long.MAX_VALUE / 2;

  /** RST_STREAM's error code for a stream the server gives up on (RFC 9113 §7). */
  private static final long CANCEL = 0x8;

  /** What the drain's PING carries; its ack is all that matters. */
  private static final Buffer PING = Buffer.buffer("draining");

  /** How long a client told to reconnect may take to reach the listener: a tenth of the grace. */
  private final long settleMs;

  private long settleTimer = -1;

  LoopDrain(Vertx vertx, Context context, HttpDrain shared, ConnectionGuard.Settings guard) {
    this.vertx = vertx;
    this.context = context;
    this.thread = Thread.currentThread();
    this.shared = shared;
    this.guard = guard;
    this.idleMs = shared.idleGraceMs();
    this.settleMs = idleMs / 10;
  }

  /** Runs {@code action} on this loop. */
  <T> Future<T> onLoop(Supplier<Future<T>> action) {
    Promise<T> done = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(done));
    return done.future();
  }

  private boolean onLoop() {
    return Thread.currentThread() == thread;
  }

  /** The server this loop serves, once it listens. */
  void listening(HttpServer server) {
    this.server = server;
  }

  /** Tracks a new connection; install with {@code server.connectionHandler(loop::connected)}. */
  void connected(HttpConnection connection) {
    assert onLoop();
    int max = guard.limits().maxConnections();
    if (!shared.admit(max)) {
      guard
          .errors()
          .record(
              Level.WARNING,
              "connection refused: HTTP_MAX_CONNECTIONS=" + max + " are open",
              String.valueOf(connection.remoteAddress()));
      connection.close();
      return;
    }
    track(connection);
  }

  private void track(HttpConnection connection) {
    Conn conn = new Conn(connection, Internals.isHttp2(connection));
    if (conn.http2) {
      // Idle for HTTP_IDLE_TIMEOUT_MS: told to go as the drain tells it, a stream on its way
      // served.
      Http2Switch.timeouts(connection).onIdle(() -> closeWhenIdle(conn));
      conn.streams = new Http2Streams<>(Http2Switch.codec(connection), this::flushed);
    } else {
      conn.guard =
          ConnectionGuard.install(
              connection, guard, this::lost, upgrade -> toHttp2(conn, upgrade), () -> closed(conn));
      shared.accepted(conn.guard.channel());
    }
    connections.put(connection, conn);
    setState(conn, State.IDLE);
    connection.closeHandler(v -> closed(conn));
    if (conn.http2 ? tellsHttp2ToGo() : phase != Phase.SERVING) {
      closeWhenIdle(conn);
    }
  }

  /**
   * The client opened with the HTTP/2 preface, or asked for an h2c upgrade: this HTTP/1 connection
   * is handed to Vert.x's HTTP/2 handler, whose connection arrives at {@link #connected} once the
   * client's SETTINGS have (at once for an upgrade, which carries them).
   */
  private void toHttp2(Conn conn, Http2Switch.Upgrade upgrade) {
    setState(conn, State.SWITCHING);
    guard
        .http2()
        .switchPipeline(conn.connection, upgrade, http2 -> switched(conn, http2))
        // Its HTTP/1 connection's close handler is gone with Vert.x's HTTP/1 handler.
        .addListener(closed -> closed(conn));
  }

  /**
   * The HTTP/2 connection takes the place, and the connection slot, of the one it switched from.
   */
  private void switched(Conn from, HttpConnection http2) {
    connections.remove(from.connection);
    setState(from, State.CLOSED);
    from.closed.complete();
    track(http2);
  }

  /** From the start of the drain on. */
  private boolean draining() {
    return phase != Phase.SERVING && phase != Phase.DELAY;
  }

  /**
   * Whether a new HTTP/2 connection is told to go (two GOAWAYs) at once: while this loop holds its
   * listener open, as part of reaching its quiet moment, and once the socket is closed, when its
   * client's reconnect is refused. Not in between, when other loops still accept: its client would
   * reconnect at once, be told to go again, and so on, until one reconnect is caught in the
   * kernel's accept queue as the socket closes. Such a connection is told at {@link #release}.
   */
  private boolean tellsHttp2ToGo() {
    return phase == Phase.HOLDING || phase == Phase.RELEASED || phase == Phase.ABORTED;
  }

  /** Tracks a request until its response ends or its connection closes; holds it while draining. */
  @Override
  public void handle(RoutingContext ctx) {
    assert onLoop();
    Conn conn = connections.get(ctx.request().connection());
    Exchange exchange = new Exchange(ctx, conn);
    exchange.held = holds();
    conn.exchanges.add(exchange);
    if (exchange.held) {
      held.add(exchange);
    }
    shared.requestStarted();
    ctx.put(KEY, this);
    // Whether the response ended, not the end handler's outcome: Vert.x 5.0 closes an HTTP/2
    // stream whose last frame is flushed at once inside end(), and fires its close handler first,
    // so a response sent whole would count as "connection closed".
    ctx.addEndHandler(ar -> ended(exchange, ctx.response().ended()));
    // Held first: a connection turning busy may make the loop quiet and close its listener.
    if (!conn.http2) {
      setState(conn, State.BUSY);
    }
    if (exchange.held) {
      // Its body, if any, waits in the socket until the routes run.
      ctx.request().pause();
      return;
    }
    if (marksClose()) {
      markClose(exchange);
    }
    ctx.next();
  }

  /**
   * Registers the request in {@code ctx} as a long-lived stream (see {@link LongLived}): at the
   * start of the drain, or now if it has started, {@code goingAway} runs.
   */
  void longLived(RoutingContext ctx, Runnable goingAway) {
    assert onLoop();
    Conn conn = connections.get(ctx.request().connection());
    for (Exchange exchange : conn == null ? List.<Exchange>of() : conn.exchanges) {
      if (exchange.ctx == ctx) {
        exchange.goingAway = goingAway;
        if (draining()) {
          exchange.goAway();
        }
      }
    }
  }

  /** Whether a response that starts now carries Connection: close: the one place that decides. */
  private boolean marksClose() {
    return phase == Phase.DELAY || phase == Phase.RELEASED || phase == Phase.ABORTED;
  }

  private boolean holds() {
    return phase == Phase.HOLDING || phase == Phase.LISTENER_CLOSED;
  }

  /**
   * Adds {@code Connection: close} to an HTTP/1 response whose head is not on the wire yet. HTTP/2
   * forbids the header; its connection's GOAWAY says the same.
   */
  private static void markClose(Exchange exchange) {
    HttpServerResponse response = exchange.ctx.response();
    if (!exchange.conn.http2 && !response.headWritten()) {
      response.putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
    }
  }

  /** The pre-stop delay begins: responses close their connections, idle ones close after grace. */
  Future<Void> beginDelay() {
    assert onLoop();
    phase = Phase.DELAY;
    for (Conn conn : connections.values()) {
      conn.exchanges.forEach(LoopDrain::markClose);
      if (conn.state == State.IDLE && !conn.http2) {
        closeWhenIdle(conn);
      }
    }
    return Future.succeededFuture();
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
    assert onLoop();
    boolean fromServing = phase == Phase.SERVING;
    phase = Phase.HOLDING;
    for (Conn conn : List.copyOf(connections.values())) {
      if (conn.http2 || (fromServing && conn.state == State.IDLE)) {
        closeWhenIdle(conn);
      }
      for (Exchange exchange : List.copyOf(conn.exchanges)) {
        exchange.goAway();
      }
    }
    this.deadline = deadline;
    released = Promise.promise();
    long untilAbortMs = deadline.untilMs(deadline.requestsMs());
    Timer bound = vertx.timer(Math.max(1, Math.min(idleMs, untilAbortMs)), MILLISECONDS);
    bound.onSuccess(v -> closeListener());
    Timer abortAt = vertx.timer(untilAbortMs, MILLISECONDS);
    checkQuiet();
    Future<Void> settled = released.future().compose(v -> settle());
    return Future.any(settled, abortAt)
        .compose(
            v -> {
              bound.cancel();
              if (settled.succeeded()) {
                abortAt.cancel();
                return Future.succeededFuture();
              }
              abortAll();
              return settle().timeout(deadline.untilMs(deadline.abortedMs()), MILLISECONDS);
            })
        .transform(v -> Future.succeededFuture());
  }

  /**
   * Closes this loop's listener once every open connection holds a request, and no client told to
   * reconnect may still be on its way: a request in progress could otherwise end without {@code
   * Connection: close} and be followed at once by one the shutdown event would cut, and a client
   * reconnecting could be caught in the kernel's accept queue as the socket closes.
   */
  private void checkQuiet() {
    if (phase != Phase.HOLDING
        || counts[State.IDLE.ordinal()] > 0
        || counts[State.SWITCHING.ordinal()] > 0
        || anyUnheld()) {
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
   * An HTTP/1 request that runs: its response may end without Connection: close, or is streaming.
   * (An HTTP/2 connection's streams cannot outlast its second GOAWAY unannounced.)
   */
  private boolean anyUnheld() {
    for (Conn conn : connections.values()) {
      if (conn.http2) {
        continue;
      }
      for (Exchange exchange : conn.exchanges) {
        if (!exchange.held) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Stops this loop accepting. Its responses in progress are told to close (Vert.x closes their
   * connections after them); held requests wait for the socket to be closed.
   */
  private void closeListener() {
    if (phase != Phase.HOLDING) {
      return;
    }
    phase = Phase.LISTENER_CLOSED;
    for (Conn conn : connections.values()) {
      for (Exchange exchange : conn.exchanges) {
        if (!exchange.held) {
          markClose(exchange);
        }
      }
    }
    shared.stopAccepting(deadline.untilMs(deadline.componentsMs()), last -> closedSocket = last);
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
    assert onLoop();
    if (phase == Phase.LISTENER_CLOSED) {
      phase = Phase.RELEASED;
      List<Exchange> run = List.copyOf(held);
      held.clear();
      for (Exchange exchange : run) {
        exchange.held = false;
        markClose(exchange);
        exchange.ctx.next();
        // A route that reads the body resumed it already; for one that does not, it is discarded.
        exchange.ctx.request().resume();
      }
      for (Conn conn : List.copyOf(connections.values())) {
        if (conn.http2) {
          closeWhenIdle(conn);
        }
      }
    }
    if (released != null) {
      released.tryComplete();
    }
    return Future.succeededFuture();
  }

  /**
   * Completes once no request is in flight and no connection is open. Each round waits on the
   * promises outstanding when it starts; requests that arrive meanwhile are caught by the next.
   */
  private Future<Void> settle() {
    List<Future<Void>> pending = new ArrayList<>();
    for (Conn conn : connections.values()) {
      for (Exchange exchange : conn.exchanges) {
        pending.add(exchange.done());
      }
      pending.add(conn.closed.future());
    }
    if (pending.isEmpty()) {
      return Future.succeededFuture();
    }
    return Future.join(pending).transform(v -> settle());
  }

  private void abortAll() {
    boolean listening = phase == Phase.HOLDING;
    phase = Phase.ABORTED;
    if (listening) {
      shared.stopAccepting(deadline.untilMs(deadline.abortedMs()), last -> {});
    }
    held.clear();
    for (Conn conn : List.copyOf(connections.values())) {
      if (conn.http2) {
        abortStreams(conn);
        continue;
      }
      if (conn.state == State.SWITCHING) {
        continue; // no request yet; closed with the server, or with its HTTP/2 connection's streams
      }
      // A response already on its way cannot become a 503, and a client that does not read would
      // not get one: such a connection is cut, and its guard counts what it loses.
      boolean cut = conn.guard.outputPending();
      for (Exchange exchange : conn.exchanges) {
        exchange.aborted = true;
        cut |= exchange.ctx.response().headWritten();
      }
      if (cut) {
        setState(conn, State.CLOSING);
        shared.countClosedByDrain();
        conn.guard.cut();
        continue;
      }
      for (Exchange exchange : List.copyOf(conn.exchanges)) {
        shared.countAborted(1);
        markClose(exchange);
        HttpServerResponse response = exchange.ctx.response();
        response.putHeader(HttpHeaders.RETRY_AFTER, "1");
        Responses.error(response, 503, "service is shutting down");
      }
      if (conn.state == State.IDLE) {
        close(conn, false);
      }
    }
  }

  /**
   * An HTTP/2 connection at the deadline: a stream whose response has not started gets the 503, one
   * already answering is reset (RST_STREAM with CANCEL), and the connection closes once they are
   * out.
   */
  private void abortStreams(Conn conn) {
    for (Exchange exchange : List.copyOf(conn.exchanges)) {
      exchange.aborted = true;
      shared.countAborted(1);
      HttpServerResponse response = exchange.ctx.response();
      if (response.headWritten()) {
        response.reset(CANCEL);
      } else {
        response.putHeader(HttpHeaders.RETRY_AFTER, "1");
        Responses.error(response, 503, "service is shutting down");
      }
    }
    close(conn, false);
  }

  /**
   * A guard closed a connection with requests it had read left unanswered, or an answer unsent:
   * during a drain, those are aborted.
   */
  private void lost(int requests) {
    if (phase != Phase.SERVING) {
      shared.countAborted(requests);
    }
  }

  private void ended(Exchange exchange, boolean succeeded) {
    Conn conn = exchange.conn;
    if (exchange.flushing) {
      return; // settled once its stream closes: flushed
    }
    if (succeeded
        && conn.http2
        && !exchange.aborted
        && conn.streams.pending(exchange.streamId, exchange)) {
      // Ended, but its last bytes may wait on the client's flow-control window: it counts as
      // answered once they have left, and as aborted if they never do.
      exchange.flushing = true;
      return;
    }
    if (!conn.exchanges.remove(exchange)) {
      return; // settled by its connection's close already
    }
    if (exchange.held) {
      held.remove(exchange);
    }
    if (exchange.done != null) {
      exchange.done.complete();
    }
    shared.requestEnded();
    // A stream told to go away ends with its connection: drained all the same.
    if (phase != Phase.SERVING && (succeeded || exchange.toldToGo) && !exchange.aborted) {
      shared.countDrained();
    }
    if (conn.state == State.BUSY) {
      HttpServerResponse response = exchange.ctx.response();
      // Vert.x closes a connection only when the request asked to; a response saying so (the
      // drain's, or a 413 whose body was not read) needs the close done here.
      if (response.headers().contains(HttpHeaders.CONNECTION, HttpHeaders.CLOSE, true)) {
        if (phase != Phase.SERVING) {
          lastInvitedNanos = System.nanoTime();
        }
        close(conn, true);
      } else if (conn.exchanges.isEmpty()) {
        conn.idleSince = System.nanoTime();
        setState(conn, State.IDLE);
        if (phase != Phase.SERVING) {
          closeWhenIdle(conn);
        }
      }
    }
    // Only once this connection counts as idle or closing: checked earlier, the end of a streamed
    // response would make the loop look quiet and let the listener shutdown cut its connection.
    checkQuiet();
  }

  /** An HTTP/2 response's stream has closed: its last bytes left ({@code out}), or never will. */
  private void flushed(Exchange exchange, boolean out) {
    exchange.flushing = false;
    if (!out && phase != Phase.SERVING && !exchange.aborted) {
      exchange.aborted = true;
      shared.countAborted(1);
    }
    ended(exchange, out);
  }

  private void closed(Conn conn) {
    if (conn.state == State.CLOSED) {
      return;
    }
    shared.leave();
    connections.remove(conn.connection);
    setState(conn, State.CLOSED);
    // An upgraded connection's request has no end handler left to call: settled here.
    for (Exchange exchange : List.copyOf(conn.exchanges)) {
      ended(exchange, exchange.ctx.response().ended());
    }
    conn.closed.complete();
  }

  /**
   * Closes a connection once its output is out.
   *
   * @param afterResponse a response has just ended on it, which must reach the client
   */
  private void close(Conn conn, boolean afterResponse) {
    if (conn.state == State.CLOSING || conn.state == State.CLOSED) {
      return;
    }
    setState(conn, State.CLOSING);
    if (phase != Phase.SERVING) {
      shared.countClosedByDrain();
    }
    if (conn.http2) {
      // The second GOAWAY names the last stream the client opened; Netty then closes the
      // connection when its last stream ends (or at the deadline; before a drain, a connection
      // gone idle gives a stream opened between the GOAWAYs as long as an idle connection lasts).
      Internals.goAway(conn.connection, -1);
      if (phase == Phase.HOLDING) {
        // Its client reconnects at once: this loop's listener waits for that connection to land.
        lastInvitedNanos = System.nanoTime();
      }
      conn.connection.shutdown(
          deadline != null
              ? deadline.untilMs(deadline.componentsMs())
              : guard.limits().idleTimeout().toMillis(),
          MILLISECONDS);
      return;
    }
    conn.guard.closeWhenFlushed(afterResponse);
  }

  /** The one place a connection's state and the per-state counts change. */
  private void setState(Conn conn, State next) {
    assert onLoop();
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
    }
    if (previous == State.IDLE || previous == State.SWITCHING) {
      checkQuiet();
    }
  }

  /**
   * Closes an HTTP/1 connection once it has been idle for the grace; starts an HTTP/2 connection's
   * two GOAWAYs (as gRPC and h2o do): the first, with the highest stream id, tells the client to
   * open no more streams without refusing one on its way; the PING's ack (or the grace) proves that
   * what it opened before has arrived, and {@link #close} sends the second.
   */
  private void closeWhenIdle(Conn conn) {
    if (conn.http2) {
      if (!conn.goingAway) {
        conn.goingAway = true;
        Internals.goAway(conn.connection, Integer.MAX_VALUE);
        conn.connection
            .ping(PING)
            .timeout(idleMs, MILLISECONDS)
            .onComplete(ar -> close(conn, false));
      }
      return;
    }
    vertx.cancelTimer(conn.idleTimer);
    long quietMs = (System.nanoTime() - conn.idleSince) / 1_000_000;
    conn.idleTimer =
        vertx.setTimer(
            Math.max(1, idleMs - quietMs),
            id -> {
              if (conn.state == State.IDLE) {
                close(conn, false);
              }
            });
  }

  /** One accepted connection. */
  private static final class Conn {
    final HttpConnection connection;
    final boolean http2;
    final Promise<Void> closed = Promise.promise();

    /** HTTP/1 only. */
    ConnectionGuard guard;

    /** HTTP/2 only: when a response's last bytes leave. */
    Http2Streams<Exchange> streams;

    /** HTTP/2: the first GOAWAY is sent. */
    boolean goingAway;

    /** At most two: Vert.x starts a pipelined request before the previous one's end handlers. */
    final List<Exchange> exchanges = new ArrayList<>(2);

    State state;
    long idleSince = System.nanoTime();
    long idleTimer = -1;

    Conn(HttpConnection connection, boolean http2) {
      this.connection = connection;
      this.http2 = http2;
    }
  }

  /** One request, settled when its response ends or its connection closes. */
  static final class Exchange {
    final RoutingContext ctx;
    final Conn conn;

    /** HTTP/2: the request's stream. */
    final int streamId;

    /** HTTP/2: the response has ended, and its stream has not closed yet. */
    boolean flushing;

    /** Made only when a drain waits on it: the hot path allocates no promise. */
    Promise<Void> done;

    boolean aborted;

    /** Waiting for the listening socket to close before it runs. */
    boolean held;

    /** A long-lived stream's goodbye at the start of the drain; see {@link LongLived}. */
    Runnable goingAway;

    /** {@link #goingAway} has run: however the stream then ends, it was drained. */
    boolean toldToGo;

    Exchange(RoutingContext ctx, Conn conn) {
      this.ctx = ctx;
      this.conn = conn;
      this.streamId = conn.http2 ? ctx.request().streamId() : -1;
    }

    Future<Void> done() {
      if (done == null) {
        done = Promise.promise();
      }
      return done.future();
    }

    /** Tells a long-lived stream to go away, once. */
    void goAway() {
      if (goingAway != null && !toldToGo) {
        toldToGo = true;
        goingAway.run();
      }
    }
  }
}
