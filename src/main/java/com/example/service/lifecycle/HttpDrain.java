package com.example.service.lifecycle;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Drains the HTTP server of every event loop as one, so that every request that reaches an accepted
 * connection is answered, and a client that reconnects during the drain meets a closed listener.
 *
 * <p>Each event loop tracks its own connections ({@link LoopDrain}); this object holds only what
 * the loops share: the phase readiness reads, how many loops still accept, and the moment the
 * listening socket is really closed.
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
 * <p>So: the loops call {@code server.shutdown} one at a time under this object's lock, which makes
 * the caller that counts the last loop the one whose call closed the socket. The shutdown event (or
 * the shutdown's completion, if that loop has no connection) then says Netty closed it; {@link
 * ListenerProbe} confirms the kernel no longer listens, and only then are held requests released
 * with {@code Connection: close}.
 */
public final class HttpDrain {

  /**
   * What a drain did, summed over every event loop.
   *
   * @param drained requests answered after shutdown began
   * @param aborted requests answered 503 or cut off at the deadline
   */
  public record Result(long drained, long aborted) {

    /** {@code "1 request drained, 0 aborted"}, as the log's lines say it. */
    public String summary() {
      return drained
          + (drained == 1 ? " request" : " requests")
          + " drained, "
          + aborted
          + " aborted";
    }
  }

  private final long idleGraceMs;
  private final String host;
  private volatile int port;
  private final List<LoopDrain> loops = new CopyOnWriteArrayList<>();
  private final AtomicBoolean listenerClosed = new AtomicBoolean();
  private final Promise<Void> holding = Promise.promise();
  private volatile LifecyclePhase phase = LifecyclePhase.SERVING;

  // Counted by every loop, read by the summary, readiness and metrics.
  private final LongAdder inFlight = new LongAdder();
  private final LongAdder drained = new LongAdder();
  private final LongAdder aborted = new LongAdder();
  private final LongAdder closedByDrain = new LongAdder();
  private final LongAdder refused = new LongAdder();

  /** Loops whose server still accepts; guarded by {@code this}. */
  private int accepting;

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

  /** Where the lifecycle is; readiness fails from {@link LifecyclePhase#DELAY} on. */
  public LifecyclePhase phase() {
    return phase;
  }

  /** Moves to a later phase; the lifecycle calls it, the drain moves itself to DRAINING. */
  public void advance(LifecyclePhase next) {
    phase = next;
  }

  /** What the drain has done so far, over every loop. */
  public Result result() {
    return new Result(drained.sum(), aborted.sum());
  }

  /** Requests being served or held, over every loop. */
  public long requestsInFlight() {
    return inFlight.sum();
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

  void requestStarted() {
    inFlight.increment();
  }

  void requestEnded() {
    inFlight.decrement();
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

  /** Completes once every loop holds new requests: from then on none reaches the routes early. */
  public Future<Void> holding() {
    return holding.future();
  }

  /** Counts a new connection in, unless {@code max} are open already. */
  boolean admit(int max) {
    if (connections.incrementAndGet() > max) {
      connections.decrementAndGet();
      refused.increment();
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
    phase = LifecyclePhase.DELAY;
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
   * Closes the listener and drains every loop under {@code deadline}.
   *
   * @return the counts, summed over the loops; never fails
   */
  public Future<Result> drain(Deadline deadline) {
    phase = LifecyclePhase.DRAINING;
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
    return Future.join(drainedLoops).transform(v -> Future.succeededFuture(result()));
  }

  /**
   * Stops {@code server} accepting; one loop at a time, so the caller told {@code true} is the one
   * whose call closes the listening socket. It is told before the call, because the call sends the
   * shutdown event to that loop's connections synchronously unless it is the last.
   */
  synchronized Future<Void> stopAccepting(
      HttpServer server, long graceMs, Consumer<Boolean> closesSocket) {
    closesSocket.accept(--accepting == 0);
    return server.shutdown(graceMs, TimeUnit.MILLISECONDS);
  }

  /**
   * Vert.x has closed the listening socket: once the kernel agrees, every loop may release its held
   * requests. Runs on the loop whose {@code server.shutdown} closed the socket.
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
    if (phase != LifecyclePhase.DRAINING) {
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
