package com.example.service.lifecycle.internal;

import java.time.Duration;
import java.time.Instant;

/** Elapsed milliseconds for the lifecycle's log lines. */
public final class Clock {

  private final long start = System.nanoTime();

  public long elapsedMs() {
    return (System.nanoTime() - start) / 1_000_000;
  }

  /** Milliseconds since the JVM process started, as the OS saw it. */
  public static long sinceProcessStartMs() {
    return ProcessHandle.current()
        .info()
        .startInstant()
        .map(started -> Duration.between(started, Instant.now()).toMillis())
        .orElse(-1L);
  }
}
