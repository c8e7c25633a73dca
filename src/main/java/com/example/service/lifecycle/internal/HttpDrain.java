package com.example.service.lifecycle.internal;

import com.example.service.lifecycle.DrainResult;
import io.netty.channel.Channel;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.logging.Level;

/**
 * Drains the HTTP server of every event loop as one, so that every request that reaches an accepted
 * connection is answered, and a client that reconnects during the drain meets a closed listener.
 *
 * <p>Each event loop drains its own connections ({@link LoopDrain}, {@link LoopConnections}); this
 * object holds only what the loops share: the counts, how many loops still accept, and the moment
 * the listening socket is really closed.
 *
 * <h2>The shared listening socket (verified in Vert.x 5.0.10's {@code NetServerImpl} and {@code
 * ServerChannelLoadBalancer})</h2>
 *
 * Each HTTP verticle instance has its own {@link HttpServer}; the first to listen binds the socket
 * and the others register their event loop as a worker of it. {@code server.shutdown} removes that
 * instance's worker synchronously, in the calling thread. While other workers remain, the socket
 * stays open and new connections go to the remaining loops; a connection the acceptor had already
 * handed to the removed loop is closed unread. The call that removes the last worker closes the
 * socket (asynchronously, on the acceptor thread) and only then sends that instance's connections
 * the shutdown event; the other instances' connections got theirs at their own call. The shutdown
 * event closes an HTTP/1 connection at once if it has no request in progress, else right after the
 * current response, without adding {@code Connection: close}.
 *
 * <p>So the drain calls no {@code server.shutdown}. Each loop reports its quiet moment ({@link
 * #stopAccepting}) one at a time under this object's lock, staying in the acceptor's rotation; the
 * last one closes the socket itself, through Netty's server channel (the parent of any accepted
 * connection), and no connection gets the shutdown event. Netty's close says little (see {@link
 * ListenerProbe}): the probe confirms the kernel no longer listens, and only then are held requests
 * released with {@code Connection: close}. The servers themselves are closed when their verticles
 * are undeployed, after the drain.
 */
public final class HttpDrain {

  private final long idleGraceMs;
  private final String host;
  private volatile int port;
  private final List<LoopDrain> loops = new CopyOnWriteArrayList<>();
  private final AtomicBoolean listenerClosed = new AtomicBoolean();
  private final Promise<Void> holding = Promise.promise();

  /** From the start of the drain until it completes: the listener probe polls only then. */
  private volatile boolean draining;

  // Counted by every loop, read by the summary, readiness and metrics.
  private final LongAdder drained = new LongAdder();
  private final LongAdder aborted = new LongAdder();
  private final LongAdder closedByDrain = new LongAdder();
  private final LongAdder refused = new LongAdder();
  private final LongAdder retired = new LongAdder();

  /** Loops that have not yet reached their moment to stop accepting; guarded by {@code this}. */
  private int accepting;

  /** The listening socket all loops share, as Netty holds it; known from the first connection. */
  private volatile Channel socket;

  /** Connections open over every loop, for {@code HTTP_MAX_CONNECTIONS}. */
  private final AtomicInteger connections = new AtomicInteger();

  /**
   * @param host the address the servers listen on
   * @param idleGraceMs how long a connection must be quiet before the drain closes it
   */
  public HttpDrain(String host, long idleGraceMs) {
    this.host = host;
    this.idleGraceMs = idleGraceMs;
  }

  long idleGraceMs() {
    return idleGraceMs;
  }

  /** What the drain has done so far, over every loop. */
  public DrainResult result() {
    return new DrainResult(drained.sum(), aborted.sum());
  }

  /** Requests being served or held, over every loop. */
  public long requestsInFlight() {
    long sum = 0;
    for (LoopDrain loop : loops) {
      sum += loop.connections().requestsInFlight();
    }
    return sum;
  }

  /** Open connections, over every loop. */
  public long connectionsOpen() {
    return connections.get();
  }

  /** Connections closed at once because {@code HTTP_MAX_CONNECTIONS} were open. */
  public long connectionsRefused() {
    return refused.sum();
  }

  /** Connections the drain has closed: after a response, idle, or at the deadline. */
  public long connectionsClosedByDrain() {
    return closedByDrain.sum();
  }

  /** Connections told to go for their age ({@code HTTP_MAX_CONNECTION_AGE_MS}). */
  public long connectionsRetired() {
    return retired.sum();
  }

  void countDrained() {
    drained.increment();
  }

  void countAborted(long requests) {
    aborted.add(requests);
  }

  void countClosedByDrain() {
    closedByDrain.increment();
  }

  void countRetired() {
    retired.increment();
  }

  /** Completes once every loop holds new requests: from then on none reaches the routes early. */
  public Future<Void> holding() {
    return holding.future();
  }

  /**
   * Counts a new connection in, unless {@code max} are open already: then it is closed, and the
   * refusal logged through {@code errors}.
   */
  boolean admit(HttpConnection connection, int max, ClientErrors errors) {
    if (connections.incrementAndGet() > max) {
      connections.decrementAndGet();
      refused.increment();
      errors.record(
          Level.WARNING,
          "connection refused: HTTP_MAX_CONNECTIONS=" + max + " are open",
          String.valueOf(connection.remoteAddress()));
      connection.close();
      return false;
    }
    return true;
  }

  /** Counts an admitted connection out. */
  void leave() {
    connections.decrementAndGet();
  }

  synchronized void register(LoopDrain loop, int port) {
    this.port = port;
    loops.add(loop);
    accepting++;
  }

  /**
   * Readiness fails; with {@code closeConnections}, every response from now on carries {@code
   * Connection: close} and idle connections are closed after the idle grace, so that clients behind
   * an L4 balancer reconnect elsewhere. The listener stays open.
   */
  public Future<Void> beginShutdown(boolean closeConnections) {
    if (!closeConnections) {
      return Future.succeededFuture();
    }
    List<Future<Void>> begun = new ArrayList<>();
    for (LoopDrain loop : loops) {
      begun.add(loop.onLoop(loop::beginDelay));
    }
    return Future.join(begun).mapEmpty();
  }

  /**
   * During the pre-stop delay: the {@link System#nanoTime} of the last request on any loop that was
   * not a probe or a scrape, or of the delay's start if there was none.
   */
  public long lastTrafficNanos() {
    long last = 0;
    boolean any = false;
    for (LoopDrain loop : loops) {
      long t = loop.lastTrafficNanos();
      if (!any || t - last > 0) {
        last = t;
        any = true;
      }
    }
    return any ? last : System.nanoTime();
  }

  /**
   * Closes the listener and drains every loop under {@code deadline}.
   *
   * @return the counts, summed over the loops; never fails
   */
  public Future<DrainResult> drain(Deadline deadline) {
    draining = true;
    List<Future<Void>> drainedLoops = new ArrayList<>();
    List<Future<Void>> held = new ArrayList<>();
    for (LoopDrain loop : loops) {
      Promise<Void> holds = Promise.promise();
      held.add(holds.future());
      drainedLoops.add(
          loop.onLoop(
              () -> {
                Future<Void> done = loop.drain(deadline);
                holds.complete();
                return done;
              }));
    }
    Future.join(held).<Void>mapEmpty().onComplete(holding);
    return Future.join(drainedLoops)
        .transform(
            v -> {
              draining = false;
              return Future.succeededFuture(result());
            });
  }

  /** Learns the listening socket from a connection accepted on it. */
  void accepted(Channel connection) {
    if (socket == null) {
      socket = connection.parent();
    }
  }

  /**
   * A loop has reached its moment to stop accepting; one loop at a time, so the caller told {@code
   * true}, the last, is the one that closes the listening socket. Until then every loop stays in
   * the acceptor's rotation: one that left it while the socket still accepted would have the
   * connections already handed to it closed unread.
   */
  synchronized void stopAccepting(long graceMs, Consumer<Boolean> closesSocket) {
    boolean last = --accepting == 0;
    closesSocket.accept(last);
    if (!last) {
      return;
    }
    Channel listening = socket;
    if (listening != null) {
      // Closed directly, not through server.shutdown: its shutdown event would close the idle
      // connections of every loop at once.
      listening.close();
      return;
    }
    // No connection was ever accepted, so there is none to cut: Vert.x's own shutdown closes it.
    for (LoopDrain loop : loops) {
      loop.onLoop(() -> loop.shutdownServer(graceMs));
    }
  }

  /**
   * The last loop has asked Netty to close the listening socket ({@link #stopAccepting}), which
   * proves nothing yet: once the kernel agrees ({@link ListenerProbe}), every loop may release its
   * held requests. Runs on that last loop.
   */
  void listenerClosed(Vertx vertx) {
    if (listenerClosed.compareAndSet(false, true)) {
      releaseOnceClosed(vertx);
    }
  }

  /**
   * Netty reports the socket closed a selector turn before the kernel stops listening (see {@link
   * ListenerProbe}); no event marks that turn, so the kernel is asked again each millisecond until
   * it agrees. It takes one turn of the acceptor thread, and the drain's deadline bounds it.
   */
  private void releaseOnceClosed(Vertx vertx) {
    if (!draining) {
      return;
    }
    if (ListenerProbe.listening(host, port)) {
      vertx.setTimer(1, id -> releaseOnceClosed(vertx));
      return;
    }
    for (LoopDrain loop : loops) {
      loop.onLoop(loop::release);
    }
  }
}
