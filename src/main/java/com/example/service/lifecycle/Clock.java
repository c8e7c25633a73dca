package com.example.service.lifecycle;

import java.time.Duration;
import java.time.Instant;

/** Elapsed milliseconds for the lifecycle's log lines. */
final class Clock {

  private final long start = System.nanoTime();

  long elapsedMs() {
    return (System.nanoTime() - start) / 1_000_000;
  }

  /** Milliseconds since the JVM process started, as the OS saw it. */
  static long sinceProcessStartMs() {
    return ProcessHandle.current()
        .info()
        .startInstant()
        .map(started -> Duration.between(started, Instant.now()).toMillis())
        .orElse(-1L);
  }
}
