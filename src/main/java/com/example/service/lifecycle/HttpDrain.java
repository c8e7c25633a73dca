package com.example.service.lifecycle;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.NANOSECONDS;

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

/**
 * Drains an HTTP/1.x server so that every request that reaches an accepted connection is answered.
 *
 * <p>Vert.x's own {@link HttpServer#shutdown} closes idle keep-alive connections at once, without
 * telling the client; a request the client sends on one at that instant is lost. This class avoids
 * that race:
 *
 * <ul>
 *   <li>From {@link #beginDrain()} on, every response carries {@code Connection: close} and its
 *       connection is closed right after it, so a busy client is told before the close.
 *   <li>A connection with no request in progress is closed only once it has been quiet for the idle
 *       grace: a client that is actively using a connection sends its next request far sooner than
 *       that, gets an answer with {@code Connection: close}, and the connection closes after it.
 *       Only a client that has left a connection unused for the whole grace can race the close,
 *       exactly as with any keep-alive idle timeout.
 *   <li>The listener is closed (with {@code server.shutdown}) at the first moment no accepted
 *       connection is idle and no response whose head went out before the drain (so without {@code
 *       Connection: close}) is still being written; or after the idle grace at the latest. Vert.x
 *       then closes each connection after its current response, and every such response has told
 *       its client so.
 * </ul>
 *
 * <p>All methods run on the HTTP verticle's event loop. It must be the first route ({@code
 * router.route().handler(drain)}) and the server's connection handler ({@code
 * server.connectionHandler(drain::connected)}).
 */
public final class HttpDrain implements Handler<RoutingContext> {

  /**
   * What a drain did.
   *
   * @param drained requests answered after shutdown began
   * @param aborted requests answered 503 or cut off at the deadline
   */
  public record Result(long drained, long aborted) {}

  /** How long aborted requests get to be written before their connections are cut. */
  static final long ABORT_GRACE_MS = 1000;

  private final Vertx vertx;
  private final long idleMs;
  private final Map<HttpConnection, Conn> connections = new HashMap<>();

  /** Open connections with no request in progress: the ones a listener shutdown would cut. */
  private int idle;

  /**
   * Responses whose head was written before the drain began, so without {@code Connection: close},
   * still being written: after one of them a listener shutdown would close the connection
   * unannounced.
   */
  private int unmarked;

  private boolean draining;
  private Promise<Void> quiet;
  private Future<Void> serverShutdown;
  private long drained;
  private long aborted;

  /**
   * @param idleMs how long a connection must be quiet before the drain closes it
   */
  public HttpDrain(Vertx vertx, long idleMs) {
    this.vertx = vertx;
    this.idleMs = idleMs;
  }

  /** True from the moment shutdown began: readiness should fail. */
  public boolean draining() {
    return draining;
  }

  /** Tracks a new connection; install with {@code server.connectionHandler(drain::connected)}. */
  public void connected(HttpConnection connection) {
    Conn conn = new Conn(connection);
    connections.put(connection, conn);
    setIdle(conn, true);
    connection.closeHandler(v -> closed(conn));
    if (draining) {
      closeWhenIdle(conn);
    }
  }

  /** Tracks a request until its response ends or its connection closes. */
  @Override
  public void handle(RoutingContext ctx) {
    Conn conn = connections.get(ctx.request().connection());
    Exchange exchange = new Exchange(ctx, conn);
    conn.exchanges.add(exchange);
    setIdle(conn, false);
    if (draining) {
      markClose(exchange);
    }
    ctx.addEndHandler(ar -> ended(exchange, ar.succeeded()));
    ctx.next();
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

  /**
   * Starts the drain: readiness fails, and every response from now on carries {@code Connection:
   * close}. The listener stays open until {@link #drain} is called.
   */
  public void beginDrain() {
    if (draining) {
      return;
    }
    draining = true;
    // All on this event loop: no response head can be written between here and the flag above.
    for (Conn conn : connections.values()) {
      for (Exchange exchange : conn.exchanges) {
        if (!markClose(exchange)) {
          exchange.unmarked = true;
          unmarked++;
        }
      }
      if (conn.open && conn.exchanges.isEmpty()) {
        closeWhenIdle(conn);
      }
    }
  }

  /**
   * Stops accepting, waits until every accepted request is answered and every connection closed,
   * and at the deadline answers the rest with 503.
   *
   * @param timeoutMs the deadline, from now
   * @return the counts; never fails
   */
  public Future<Result> drain(HttpServer server, long timeoutMs) {
    beginDrain();
    Timer deadline = vertx.timer(Math.max(1, timeoutMs), MILLISECONDS);
    Future<Void> settled =
        quiet(Math.min(idleMs, timeoutMs))
            .compose(
                v -> {
                  shutdownListener(server, timeoutMs);
                  return settle();
                });
    return Future.any(settled, deadline)
        .compose(
            v -> {
              if (settled.succeeded()) {
                deadline.cancel();
                return Future.succeededFuture();
              }
              abortAll();
              shutdownListener(server, 0);
              return settle().timeout(ABORT_GRACE_MS, MILLISECONDS);
            })
        .transform(v -> serverShutdown.timeout(ABORT_GRACE_MS, MILLISECONDS))
        .transform(v -> Future.succeededFuture(new Result(drained, aborted)));
  }

  /**
   * Completes at the first moment a listener shutdown would cut nothing unannounced: no open
   * connection idle, no unmarked response still being written. Or after {@code boundMs}.
   */
  private Future<Void> quiet(long boundMs) {
    quiet = Promise.promise();
    checkQuiet();
    Timer bound = vertx.timer(Math.max(1, boundMs), MILLISECONDS);
    return Future.any(quiet.future(), bound).onComplete(v -> bound.cancel()).mapEmpty();
  }

  private void checkQuiet() {
    if (quiet != null && idle == 0 && unmarked == 0) {
      quiet.tryComplete();
    }
  }

  private void shutdownListener(HttpServer server, long timeoutMs) {
    if (serverShutdown == null) {
      // Its own timeout only backs ours up: by then every connection should be gone.
      serverShutdown = server.shutdown(timeoutMs + 2 * ABORT_GRACE_MS, MILLISECONDS);
    }
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
    for (Conn conn : List.copyOf(connections.values())) {
      for (Exchange exchange : List.copyOf(conn.exchanges)) {
        aborted++;
        exchange.aborted = true;
        HttpServerResponse response = exchange.ctx.response();
        if (response.headWritten()) {
          close(conn);
        } else {
          response.putHeader(HttpHeaders.RETRY_AFTER, "1");
          Responses.error(response, 503, "service is shutting down");
        }
      }
      if (conn.open && conn.exchanges.isEmpty()) {
        close(conn);
      }
    }
  }

  private void ended(Exchange exchange, boolean succeeded) {
    Conn conn = exchange.conn;
    conn.exchanges.remove(exchange);
    if (exchange.done != null) {
      exchange.done.complete();
    }
    if (exchange.unmarked) {
      unmarked--;
    }
    if (draining && succeeded && !exchange.aborted) {
      drained++;
    }
    if (conn.open) { // closing or closed: never counted idle again
      HttpServerResponse response = exchange.ctx.response();
      if (draining
          && response.headers().contains(HttpHeaders.CONNECTION, HttpHeaders.CLOSE, true)) {
        close(conn);
      } else if (conn.exchanges.isEmpty()) {
        conn.idleSince = System.nanoTime();
        setIdle(conn, true);
        if (draining) {
          closeWhenIdle(conn);
        }
      }
    }
    // Only once this connection counts as idle or closing: checked earlier, the end of an unmarked
    // response would make the drain look quiet and let the listener shutdown cut this connection.
    checkQuiet();
  }

  private void closed(Conn conn) {
    connections.remove(conn.connection);
    conn.open = false;
    setIdle(conn, false);
    vertx.cancelTimer(conn.idleTimer);
    conn.closed.complete();
  }

  private void close(Conn conn) {
    if (!conn.open) {
      return;
    }
    conn.open = false;
    setIdle(conn, false);
    vertx.cancelTimer(conn.idleTimer);
    conn.connection.close();
  }

  /** Keeps {@link #idle} equal to the number of connections whose {@code idle} flag is set. */
  private void setIdle(Conn conn, boolean idle) {
    if (conn.idle != idle) {
      conn.idle = idle;
      this.idle += idle ? 1 : -1;
      checkQuiet();
    }
  }

  private void closeWhenIdle(Conn conn) {
    vertx.cancelTimer(conn.idleTimer);
    long quietMs = NANOSECONDS.toMillis(System.nanoTime() - conn.idleSince);
    conn.idleTimer =
        vertx.setTimer(
            Math.max(1, idleMs - quietMs),
            id -> {
              if (conn.open && conn.exchanges.isEmpty()) {
                close(conn);
              }
            });
  }

  /** One accepted connection. */
  private static final class Conn {
    final HttpConnection connection;
    final Promise<Void> closed = Promise.promise();

    /** At most two: Vert.x starts a pipelined request before the previous one's end handlers. */
    final List<Exchange> exchanges = new ArrayList<>(2);

    boolean open = true;
    boolean idle;
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

    /** Its head was written before the drain began: it cannot carry {@code Connection: close}. */
    boolean unmarked;

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
