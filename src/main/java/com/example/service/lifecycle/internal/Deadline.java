package com.example.service.lifecycle.internal;

import java.time.Duration;

/**
 * The shutdown's one budget, computed once when the drain starts (or when a signal cuts the start
 * short) and passed down: everything after the pre-stop delay finishes within {@code
 * SHUTDOWN_TIMEOUT_MS} + {@link #MARGIN_MS}.
 *
 * <ul>
 *   <li>Requests drain until {@link #requestsMs()}: the timeout less what is reserved for the rest
 *       ({@link #reserveMs()}: a fifth of the timeout, at most 1 s).
 *   <li>Requests still waiting then are answered 503 (or cut); those answers get until {@link
 *       #abortedMs()}, a tenth of the reserve.
 *   <li>Components stop in reverse order until {@link #componentsMs()}, the timeout; a component
 *       still running then is given up, and the ones after it get {@link #LATE_STOP_MS} each from
 *       the margin, so that a file is still closed, all of them until {@link #lateStopsMs()}.
 *   <li>Vert.x closes in what is left of the margin, less {@link #EXIT_MS} for the JVM to exit.
 * </ul>
 */
public final class Deadline {

  /** What the process may take beyond the timeout, in every case. */
  public static final long MARGIN_MS = 500;

  /** What a component that comes after the deadline gets to stop. */
  public static final long LATE_STOP_MS = 100;

  /** What the components after the deadline share of the margin, however many they are. */
  static final long LATE_STOPS_MS = 200;

  /** What the JVM needs to exit after Vert.x has closed. */
  static final long EXIT_MS = 100;

  private final long startNanos;
  private final long timeoutMs;

  private Deadline(long startNanos, long timeoutMs) {
    this.startNanos = startNanos;
    this.timeoutMs = timeoutMs;
  }

  /** A deadline {@code timeout} from now. */
  public static Deadline in(Duration timeout) {
    return new Deadline(System.nanoTime(), timeout.toMillis());
  }

  long reserveMs() {
    return Math.min(timeoutMs / 5, 1000);
  }

  /** From the start: when requests still waiting are aborted. */
  public long requestsMs() {
    return timeoutMs - reserveMs();
  }

  /** From the start: how long aborted responses have to be written. */
  long abortedMs() {
    return requestsMs() + reserveMs() / 10;
  }

  /** From the start: when component stops are given up. */
  public long componentsMs() {
    return timeoutMs;
  }

  /** From the start: when the last component after the deadline is given up. */
  public long lateStopsMs() {
    return componentsMs() + LATE_STOPS_MS;
  }

  /** From the start: when Vert.x's close is given up. */
  public long closeMs() {
    return timeoutMs + MARGIN_MS - EXIT_MS;
  }

  /** Milliseconds since the start. */
  public long elapsedMs() {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  /** Milliseconds from now until {@code pointMs} after the start, at least 1 (a timer's least). */
  public long untilMs(long pointMs) {
    return Math.max(1, pointMs - elapsedMs());
  }

  long timeoutMs() {
    return timeoutMs;
  }
}
