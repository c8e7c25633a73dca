package com.example.service.lifecycle;

import static java.util.concurrent.TimeUnit.MILLISECONDS;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Timer;
import io.vertx.core.Vertx;
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
 *   <li>Vert.x's shutdown event closes a connection with no request in progress at once, racing a
 *       client that is sending its next request, and closes a busy one right after its response,
 *       which may not have said {@code Connection: close}. So a loop closes its listener ({@code
 *       server.shutdown}) only at a moment when every one of its open connections holds a request
 *       (none idle, none running one that could end unannounced); or after the idle grace at the
 *       latest, when what still runs is told to close.
 *   <li>From the start of the drain, requests are <em>held</em>: tracked, but not handed to the
 *       routes. A held request keeps its connection busy, so every connection a client is using
 *       becomes busy within one round trip, and the loop reaches that moment. A connection left
 *       unused for the idle grace is closed, as any keep-alive timeout would.
 *   <li>No response tells a client to reconnect while the listening socket may still accept it:
 *       held requests are released, with {@code Connection: close}, only once the socket is closed
 *       ({@link HttpDrain}). Their clients' reconnects are refused by the kernel before anything is
 *       sent, which every client library treats as "this server is gone".
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
    /** No request in progress: the ones a listener shutdown would cut. */
    IDLE,
    BUSY,
    /** The drain or Vert.x is closing it; never idle again. */
    CLOSING,
    CLOSED
  }

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
    Conn conn = new Conn(connection);
    conn.guard = ConnectionGuard.install(connection, guard, this::lost);
    connections.put(connection, conn);
    setState(conn, State.IDLE);
    connection.closeHandler(v -> closed(conn));
    connection.shutdownHandler(v -> shutdownEvent());
    if (phase != Phase.SERVING) {
      closeWhenIdle(conn);
    }
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
    ctx.addEndHandler(ar -> ended(exchange, ar.succeeded()));
    // Held first: a connection turning busy may make the loop quiet and close its listener.
    setState(conn, State.BUSY);
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

  /** Whether a response that starts now carries Connection: close: the one place that decides. */
  private boolean marksClose() {
    return phase == Phase.DELAY || phase == Phase.RELEASED || phase == Phase.ABORTED;
  }

  private boolean holds() {
    return phase == Phase.HOLDING || phase == Phase.LISTENER_CLOSED;
  }

  /**
   * Adds {@code Connection: close} to the response.
   *
   * @return false if its head was already on the wire, too late for that
   */
  private static boolean markClose(Exchange exchange) {
    HttpServerResponse response = exchange.ctx.response();
    if (response.headWritten()) {
      return false;
    }
    response.putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
    return true;
  }

  /** The pre-stop delay begins: responses close their connections, idle ones close after grace. */
  Future<Void> beginDelay() {
    assert onLoop();
    phase = Phase.DELAY;
    for (Conn conn : connections.values()) {
      conn.exchanges.forEach(LoopDrain::markClose);
      if (conn.state == State.IDLE) {
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
    for (Conn conn : connections.values()) {
      if (fromServing && conn.state == State.IDLE) {
        closeWhenIdle(conn);
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
    if (phase != Phase.HOLDING || counts[State.IDLE.ordinal()] > 0 || anyUnheld()) {
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

  /** A request that runs: its response may end without Connection: close, or is streaming. */
  private boolean anyUnheld() {
    for (Conn conn : connections.values()) {
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
    Future<Void> shutdown =
        shared.stopAccepting(
            server, deadline.untilMs(deadline.componentsMs()), last -> closedSocket = last);
    if (closedSocket) {
      // The shutdown event proves the socket closed on a loop with connections; without any, the
      // shutdown itself completes right after the socket closed.
      shutdown.onComplete(v -> shared.listenerClosed(vertx));
    }
  }

  private void shutdownEvent() {
    if (closedSocket) {
      shared.listenerClosed(vertx);
    }
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
      shared.stopAccepting(server, deadline.untilMs(deadline.abortedMs()), last -> {});
    }
    held.clear();
    for (Conn conn : List.copyOf(connections.values())) {
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
    conn.exchanges.remove(exchange);
    if (exchange.held) {
      held.remove(exchange);
    }
    if (exchange.done != null) {
      exchange.done.complete();
    }
    shared.requestEnded();
    if (phase != Phase.SERVING && succeeded && !exchange.aborted) {
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

  private void closed(Conn conn) {
    shared.leave();
    connections.remove(conn.connection);
    setState(conn, State.CLOSED);
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
    if (previous == State.IDLE) {
      checkQuiet();
    }
  }

  private void closeWhenIdle(Conn conn) {
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
    final Promise<Void> closed = Promise.promise();
    ConnectionGuard guard;

    /** At most two: Vert.x starts a pipelined request before the previous one's end handlers. */
    final List<Exchange> exchanges = new ArrayList<>(2);

    State state;
    long idleSince = System.nanoTime();
    long idleTimer = -1;

    Conn(HttpConnection connection) {
      this.connection = connection;
    }
  }

  /** One request, settled when its response ends or its connection closes. */
  private static final class Exchange {
    final RoutingContext ctx;
    final Conn conn;

    /** Made only when a drain waits on it: the hot path allocates no promise. */
    Promise<Void> done;

    boolean aborted;

    /** Waiting for the listening socket to close before it runs. */
    boolean held;

    Exchange(RoutingContext ctx, Conn conn) {
      this.ctx = ctx;
      this.conn = conn;
    }

    Future<Void> done() {
      if (done == null) {
        done = Promise.promise();
      }
      return done.future();
    }
  }
}
