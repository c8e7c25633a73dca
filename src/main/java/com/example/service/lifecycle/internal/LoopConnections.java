package com.example.service.lifecycle.internal;

import com.example.service.lifecycle.LongLived;
import com.example.service.lifecycle.internal.LoopDrain.Phase;
import com.example.service.lifecycle.internal.TrackedConnection.State;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One event loop's connections and their requests, as its {@link LoopDrain} needs to know them:
 * each connection from accept to close (its {@link State} kept by {@link ConnectionStates}), and
 * each request from its arrival (held while the drain says so) to its settlement. What the phase
 * means for a connection is asked of the {@link LoopDrain}; this class does what it answers.
 * Everything runs on the loop, so nothing here is locked.
 */
public final class LoopConnections implements Handler<HttpServerRequest> {

  /** Where {@link LongLived} finds this loop: in the data of the verticle's context. */
  public static final String KEY = "lifecycle.loop";

  private final Thread thread;
  private final HttpDrain shared;
  private final ConnectionGuard.Settings guard;
  private final LoopDrain drain;
  private final ConnectionStates states;

  private final ConnectionAge age;

  private final Map<HttpConnection, TrackedConnection> connections = new HashMap<>();

  /**
   * The record of the last request's connection: an HTTP/2 client's streams arrive several to a
   * read, and the map's lookup was the largest of the template's costs per such request.
   */
  private TrackedConnection last;

  private final List<Exchange> held = new ArrayList<>();

  /**
   * This loop's requests being served or held, for metrics: written only here, so an ordered store
   * suffices, where a counter shared by every loop cost a contended atomic add per request.
   */
  private final AtomicInteger inFlight = new AtomicInteger();

  private final Http2GoAway goAway;

  /** Where a request goes once tracked (and released, if held): the verticle's routes. */
  private Handler<HttpServerRequest> routes;

  LoopConnections(Vertx vertx, HttpDrain shared, ConnectionGuard.Settings guard, LoopDrain drain) {
    this.thread = Thread.currentThread();
    this.shared = shared;
    this.guard = guard;
    this.drain = drain;
    this.states = new ConnectionStates(vertx, shared, drain);
    this.goAway = states.goAway();
    this.age = new ConnectionAge(guard.limits().maxConnectionAge(), shared, goAway);
  }

  private boolean onLoop() {
    return Thread.currentThread() == thread;
  }

  /** Sets where requests go once tracked: the server's routes. */
  void routes(Handler<HttpServerRequest> routes) {
    this.routes = routes;
  }

  /** Tracks a new connection; install with {@code server.connectionHandler(loop::connected)}. */
  void connected(HttpConnection connection) {
    assert onLoop();
    if (shared.admit(connection, guard.limits().maxConnections(), guard.errors())) {
      track(connection);
    }
  }

  private void track(HttpConnection connection) {
    TrackedConnection conn = new TrackedConnection(connection);
    age.track(conn);
    if (conn.http2) {
      // Idle for HTTP_IDLE_TIMEOUT_MS: told to go as the drain tells it, a stream on its way
      // served.
      Http2Timeouts timeouts = Http2Switch.timeouts(connection);
      timeouts.onIdle(() -> states.closeWhenIdle(conn));
      conn.streams =
          new Http2Streams(
              Http2Switch.codec(connection), conn, this::streamClosed, () -> served(conn));
      timeouts.onStreamClosed(conn.streams::streamClosed);
      timeouts.onResponseWritten(conn.streams::responseWritten);
    } else {
      conn.guard = ConnectionGuard.install(connection, guard, new Http1Events(this, conn));
      shared.accepted(conn.guard.channel());
    }
    connections.put(connection, conn);
    states.set(conn, State.IDLE);
    connection.closeHandler(v -> closed(conn));
    if (conn.http2 && drain.phase() == Phase.HOLDING) {
      goAway.onceInUse(conn);
    } else if (conn.http2 ? drain.tellsHttp2ToGo() : drain.phase() != Phase.SERVING) {
      states.closeWhenIdle(conn);
    }
  }

  /**
   * The client opened with the HTTP/2 preface, or asked for an h2c upgrade: this HTTP/1 connection
   * is handed to Vert.x's HTTP/2 handler, whose connection arrives at {@link #connected} once the
   * client's SETTINGS have (at once for an upgrade, which carries them).
   */
  void toHttp2(TrackedConnection conn, Http2Switch.Upgrade upgrade) {
    states.set(conn, State.SWITCHING);
    Switching switching = new Switching(conn);
    ChannelFuture channelClosed = guard.http2().switchPipeline(conn.connection, upgrade, switching);
    if (conn.state == State.SWITCHING) {
      // Not switched at once, as an upgrade is.
      channelClosed.addListener(switching);
    }
  }

  /**
   * An HTTP/1 connection on its way to HTTP/2. Its close handler is gone with Vert.x's HTTP/1
   * handler, so until the HTTP/2 connection arrives, with a close handler of its own, the channel's
   * close ends it. Vert.x's HTTP/2 handler keeps this (its connection handler) for as long as the
   * connection lives: once switched, it lets go of the HTTP/1 connection, its guard and decoder.
   */
  private final class Switching implements Handler<HttpConnection>, ChannelFutureListener {

    private TrackedConnection from;

    Switching(TrackedConnection from) {
      this.from = from;
    }

    @Override
    public void handle(HttpConnection http2) {
      TrackedConnection switched = from;
      from = null;
      switched.guard.channel().closeFuture().removeListener(this);
      switched(switched, http2);
    }

    @Override
    public void operationComplete(ChannelFuture closed) {
      closed(from);
    }
  }

  /** The HTTP/2 connection takes the place, and the slot, of the one it switched from. */
  private void switched(TrackedConnection from, HttpConnection http2) {
    from.guard.handedOn();
    forget(from);
    states.set(from, State.CLOSED);
    from.closed.complete();
    track(http2);
  }

  /**
   * Tracks a request until its response ends or its connection closes, and holds it while draining;
   * the server's request handler, ahead of any router, so no route can skip it.
   */
  @Override
  public void handle(HttpServerRequest request) {
    assert onLoop();
    if (drain.phase() == Phase.DELAY && !Probes.isProbe(request.path())) {
      // A connection counts with its first request: a probe's own connection does not.
      drain.trafficSeen();
    }
    TrackedConnection conn = last;
    if (conn == null || conn.connection != request.connection()) {
      conn = connections.get(request.connection());
      last = conn;
    }
    if (conn.http2 && drain.phase() == Phase.SERVING) {
      // Recorded by its request: an exchange only if a drain begins while it runs (promote).
      if (conn.streams.track(request)) {
        inFlight.lazySet(inFlight.get() + 1);
      }
      age.requested(conn, request);
      routes.handle(request);
      return;
    }
    Exchange exchange = new Exchange(request, conn);
    exchange.held = drain.holds();
    conn.exchanges.add(exchange);
    if (exchange.held) {
      held.add(exchange);
    }
    inFlight.lazySet(inFlight.get() + 1);
    // An exchange ends with its HTTP/1 response (its guard tells) or its HTTP/2 stream, and with
    // its connection: no per-request response handler, which a route's own would replace.
    if (conn.http2 && !conn.streams.track(exchange)) {
      // Not seen: Vert.x hands a stream over as its HEADERS are read, so it is open. Were it closed
      // already, nothing of its response could leave.
      streamClosed(exchange, false);
    }
    // Held first: a connection turning busy may make the loop quiet and close its listener.
    if (!conn.http2) {
      states.set(conn, State.BUSY);
    }
    if (exchange.held) {
      // Its body, if any, waits in the socket until the routes run.
      request.pause();
      if (conn.http2 && drain.phase() == Phase.HOLDING) {
        goAway.onceInUse(conn);
      }
      return;
    }
    if (drain.marksClose()) {
      exchange.markClose();
    } else if (drain.phase() == Phase.SERVING) {
      age.requested(conn, request);
    }
    routes.handle(request);
  }

  /** Requests being served or held on this loop; read from any thread. */
  int requestsInFlight() {
    return inFlight.get();
  }

  /** See {@link LongLived#onDrain}. */
  public void longLived(RoutingContext ctx, Runnable goingAway) {
    assert onLoop();
    TrackedConnection conn = connections.get(ctx.request().connection());
    if (conn == null) {
      return;
    }
    promote(conn);
    for (Exchange exchange : conn.exchanges) {
      if (exchange.response == ctx.response()) {
        exchange.goingAway = goingAway;
        if (drain.draining()) {
          exchange.goAway();
        }
      }
    }
  }

  /** The pre-stop delay begins: responses close their connections, idle ones close after grace. */
  void delay() {
    for (TrackedConnection conn : connections.values()) {
      promote(conn);
      conn.exchanges.forEach(Exchange::markClose);
      if (conn.state == State.IDLE && !conn.http2) {
        states.closeWhenIdle(conn);
      }
    }
  }

  /**
   * The drain begins: HTTP/2 connections get their first GOAWAY once in use ({@link
   * Http2GoAway#onceInUse}) or, retired for their age and closing already, the drain's deadline;
   * idle HTTP/1 ones (unless the delay did it) their idle grace, and long-lived streams their
   * goodbye.
   */
  void drain(boolean fromServing) {
    for (TrackedConnection conn : List.copyOf(connections.values())) {
      promote(conn);
      if (conn.http2 && conn.retired && conn.state == State.CLOSING) {
        goAway.bound(conn);
      } else if (conn.http2) {
        goAway.onceInUse(conn);
      } else if (fromServing && conn.state == State.IDLE) {
        states.closeWhenIdle(conn);
      }
      for (Exchange exchange : List.copyOf(conn.exchanges)) {
        exchange.goAway();
      }
    }
  }

  /**
   * Whether every open connection holds a request: none idle, none switching to HTTP/2, and no
   * request running, on either protocol. An HTTP/1 response may end without Connection: close, or
   * is streaming; an HTTP/2 connection told to go closes when its last running stream ends, and its
   * client reconnects at once: either must happen while this loop still counts as accepting, never
   * as the socket closes.
   */
  boolean quiet() {
    if (states.count(State.IDLE) > 0 || states.count(State.SWITCHING) > 0) {
      return false;
    }
    for (TrackedConnection conn : connections.values()) {
      for (Exchange exchange : conn.exchanges) {
        if (!exchange.held) {
          return false;
        }
      }
    }
    return true;
  }

  /** The listener closes: responses in progress are told to close their connections. */
  void listenerClosing() {
    for (TrackedConnection conn : connections.values()) {
      for (Exchange exchange : conn.exchanges) {
        if (!exchange.held) {
          exchange.markClose();
        }
      }
    }
  }

  /** The socket is closed: runs the held requests, each telling its client to close. */
  void release() {
    List<Exchange> run = List.copyOf(held);
    held.clear();
    for (Exchange exchange : run) {
      exchange.held = false;
      exchange.markClose();
      routes.handle(exchange.request);
      // A route that reads the body resumed it already; for one that does not, it is discarded.
      exchange.request.resume();
    }
    for (TrackedConnection conn : List.copyOf(connections.values())) {
      if (conn.http2) {
        states.closeWhenIdle(conn);
      }
    }
  }

  /**
   * Completes once no request is in flight and no connection is open. Each round waits on the
   * promises outstanding when it starts; requests that arrive meanwhile are caught by the next.
   */
  Future<Void> settle() {
    List<Future<Void>> pending = new ArrayList<>();
    for (TrackedConnection conn : connections.values()) {
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

  /** The deadline: see {@link DeadlineAbort}. */
  void abort() {
    held.clear();
    for (TrackedConnection conn : List.copyOf(connections.values())) {
      if (conn.http2) {
        // Written whole while its client still sends: nothing of it is lost. Counted now, not when
        // the close below reaches its stream, which may come after the drain's count is taken.
        for (Exchange exchange : List.copyOf(conn.exchanges)) {
          if (exchange.responseWritten) {
            ended(exchange, true);
          }
        }
      }
      DeadlineAbort.abort(conn, states, shared);
    }
  }

  /** An HTTP/1 response is written whole: its request, the oldest, has ended. */
  void responseEnded(TrackedConnection conn) {
    if (!conn.exchanges.isEmpty()) {
      ended(conn.exchanges.get(0), true);
    }
  }

  /** A guard closed a connection with requests unanswered: during a drain, those are aborted. */
  void lost(int requests) {
    if (drain.phase() != Phase.SERVING) {
      shared.countAborted(requests);
    }
  }

  private void ended(Exchange exchange, boolean succeeded) {
    TrackedConnection conn = exchange.conn;
    if (!conn.exchanges.remove(exchange)) {
      return; // settled by its connection's close already
    }
    if (exchange.held) {
      held.remove(exchange);
    }
    exchange.settled();
    inFlight.lazySet(inFlight.get() - 1);
    boolean draining = drain.phase() != Phase.SERVING;
    // A stream told to go away ends with its connection: drained all the same.
    if (draining && (succeeded || exchange.toldToGo) && !exchange.aborted) {
      shared.countDrained();
    }
    if (conn.http2) {
      conn.lastEndNanos = System.nanoTime();
      if (drain.phase() == Phase.HOLDING) {
        goAway.onceInUse(conn);
      }
    }
    if (conn.state == State.BUSY) {
      states.responseEnded(conn, exchange.response);
    }
    // Only once this connection counts as idle or closing: checked earlier, the end of a streamed
    // response would make the loop look quiet and let the listener close under it.
    drain.checkQuiet();
  }

  /** The exchanges a drain or a long-lived route needs: see {@link Http2Streams}. */
  private static void promote(TrackedConnection conn) {
    if (conn.http2) {
      conn.streams.promote();
    }
  }

  /** An HTTP/2 stream opened and closed while serving: nothing to count but the time. */
  private void served(TrackedConnection conn) {
    inFlight.lazySet(inFlight.get() - 1);
    conn.lastEndNanos = System.nanoTime();
  }

  /**
   * An HTTP/2 request's stream has closed: its response's last bytes left ({@code out}), or never
   * will, or it was never answered (the client reset the stream, or the connection went).
   */
  private void streamClosed(Exchange exchange, boolean out) {
    // Only a drain counts what was answered: while serving, Vert.x's ended(), which locks the
    // connection, is not asked at every stream's close.
    boolean answered = drain.phase() != Phase.SERVING && exchange.response.ended();
    if (answered && !out && !exchange.aborted) {
      // Ended by its route, but its last bytes waited on the client's window and never left.
      exchange.aborted = true;
      shared.countAborted(1);
    }
    ended(exchange, answered && out);
  }

  private void forget(TrackedConnection conn) {
    connections.remove(conn.connection);
    if (last == conn) {
      last = null;
    }
  }

  void closed(TrackedConnection conn) {
    if (conn.state == State.CLOSED) {
      return;
    }
    shared.leave();
    forget(conn);
    if (drain.phase() == Phase.HOLDING) {
      // Its client may reconnect at once (curl in a loop; an HTTP/2 client after its GOAWAYs):
      // this loop's listener waits for that connection to land.
      drain.invited();
    }
    states.set(conn, State.CLOSED);
    // What is left never ended, or (a WebSocket) ends with its connection; on HTTP/2, a response
    // still here waited on the client's window, and its bytes never left.
    for (Exchange exchange : List.copyOf(conn.exchanges)) {
      if (conn.http2) {
        streamClosed(exchange, false);
      } else {
        ended(exchange, exchange.response.ended());
      }
    }
    conn.closed.complete();
  }
}
