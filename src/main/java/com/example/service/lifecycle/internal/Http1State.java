package com.example.service.lifecycle.internal;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import com.example.service.lifecycle.HttpLimits;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.function.Consumer;

/**
 * Where one HTTP/1.1 connection is: what it is reading, how many requests wait for their response,
 * whether a response is being written; and its one timer, which expires the head, idle and body
 * timeouts of whatever state it is in. Each kind of change has one method here, which also moves
 * the timer; the handlers of the {@link ConnectionGuard} report, and act on an expiry.
 *
 * <p>Time is the event loop's ticker, so a test moves it. Everything runs on the connection's loop.
 */
final class Http1State {

  /** What the connection is receiving. */
  enum Reading {
    /** Nothing of the first request yet: it has the head timeout from the accept. */
    NEW,
    /** Between requests: nothing of the next one has arrived. */
    AWAITING_HEAD,
    /** Part of a request head has arrived. */
    HEAD,
    /** A request head has arrived and its body is still coming. */
    BODY,
    /** A request was refused (Vert.x answers it and closes): nothing after it is read. */
    REFUSED,
    /** Our side is shut down after the last response; input is dropped until the client closes. */
    LINGERING,
    /** The guard answered or cut the connection, or handed it to HTTP/2: nothing more is read. */
    REJECTED,
    /** The connection switched protocols (a WebSocket): Vert.x closes it as it will. */
    UPGRADED
  }

  /** What the server is writing. */
  enum Writing {
    /** No response has started yet. */
    NOTHING_YET,
    /** A response's head is out and its end is not. */
    RESPONSE,
    /** At least one response has ended, and none is in progress. */
    BETWEEN
  }

  private final long headNanos;
  private final long idleNanos;
  private final long bodyNanos;
  private final Consumer<Reading> expired;
  private EventExecutor loop;

  private Reading reading = Reading.NEW;
  private Writing writing = Writing.NOTHING_YET;
  private long readingSince;
  private long lastResponseEnd;

  /** Requests read whose response has not been written yet. */
  private int open;

  private ScheduledFuture<?> timer;
  private long timerAt;

  /**
   * @param expired told the state whose timeout has passed: {@code NEW} or {@code AWAITING_HEAD}
   *     (idle: nothing to answer), {@code HEAD} or {@code BODY}
   */
  Http1State(HttpLimits limits, Consumer<Reading> expired) {
    this.headNanos = limits.headTimeout().toNanos();
    this.idleNanos = limits.idleTimeout().toNanos();
    this.bodyNanos = limits.bodyTimeout().toNanos();
    this.expired = expired;
  }

  /** Starts the clock: the connection has just been accepted on {@code loop}. */
  void start(EventExecutor loop) {
    this.loop = loop;
    readingSince = now();
    lastResponseEnd = readingSince;
    schedule();
  }

  Reading reading() {
    return reading;
  }

  int open() {
    return open;
  }

  boolean responding() {
    return writing == Writing.RESPONSE;
  }

  boolean answered() {
    return writing != Writing.NOTHING_YET;
  }

  /** The guard answered or cut the connection, or handed it on: nothing of it is HTTP/1 now. */
  boolean rejected() {
    return reading == Reading.REJECTED;
  }

  /** The one place {@link #reading} changes; a new head restarts the clock in the same state. */
  void read(Reading next, boolean newHead) {
    if (next == reading && !newHead) {
      return;
    }
    reading = next;
    if (next == Reading.REJECTED || next == Reading.UPGRADED) {
      stop();
    } else if (deadline(0) != Long.MAX_VALUE) {
      readingSince = now();
      schedule();
    }
    // Else the app is answering, and the clock is not read: this runs for every request. Only a
    // response's end, which reads the clock, can bound this state again, counting from that end.
  }

  /** How long since the last response ended, or since the accept before one. */
  long sinceLastResponseNanos() {
    return now() - lastResponseEnd;
  }

  /** A request head has been read. */
  void requestRead() {
    open++;
  }

  /** A response other than a 1xx has begun. */
  void responseStarted() {
    writing = Writing.RESPONSE;
  }

  /**
   * A response's last part is being written.
   *
   * @return whether a response was in progress (else it is not one this state counts)
   */
  boolean responseEnded() {
    if (writing != Writing.RESPONSE) {
      return false;
    }
    writing = Writing.BETWEEN;
    open = Math.max(0, open - 1);
    lastResponseEnd = now();
    schedule();
    return true;
  }

  /** A 101 answered the request: what follows is no longer HTTP/1. */
  void upgraded() {
    open = 0;
    read(Reading.UPGRADED, false);
  }

  /** The connection is closed: the timer is cancelled and never set again. */
  void closed() {
    loop = null;
    stop();
  }

  /** Cancels the timer: the connection is handed on, or in a state without a deadline. */
  void stop() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  /** When the current state times out, or {@code Long.MAX_VALUE}: the app is answering. */
  private long deadline() {
    return deadline(Math.max(readingSince, lastResponseEnd));
  }

  private long deadline(long since) {
    return switch (reading) {
      case NEW -> since + headNanos;
      case AWAITING_HEAD -> open == 0 ? since + idleNanos : Long.MAX_VALUE;
      case HEAD -> open == 0 ? since + headNanos : Long.MAX_VALUE;
      // While an earlier response is written Vert.x reads nothing more, so a body waits for it.
      case BODY -> open <= 1 ? since + bodyNanos : Long.MAX_VALUE;
      case REFUSED, LINGERING, REJECTED, UPGRADED -> Long.MAX_VALUE;
    };
  }

  /**
   * One timer per connection, rarely moved: it fires at the earliest deadline it was set for and
   * sets itself again for the current one if that is later.
   */
  private void schedule() {
    long at = deadline();
    if (at == Long.MAX_VALUE || loop == null || (timer != null && timerAt <= at)) {
      return;
    }
    stop();
    timerAt = at;
    timer = loop.schedule(this::expire, Math.max(0, at - now()), NANOSECONDS);
  }

  private void expire() {
    timer = null;
    long at = deadline();
    if (at == Long.MAX_VALUE) {
      return;
    }
    if (now() < at) {
      schedule();
      return;
    }
    expired.accept(reading);
  }

  private long now() {
    return loop == null ? System.nanoTime() : loop.ticker().nanoTime();
  }
}
