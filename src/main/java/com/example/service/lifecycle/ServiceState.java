package com.example.service.lifecycle;

import com.example.service.lifecycle.internal.HttpDrain;
import com.example.service.lifecycle.internal.PreStopDelay;

/**
 * What a running service is doing, read-only: its phase and the HTTP drain's counts. Readiness and
 * the metrics read it; so may an application's own checks and a test. Every method may be called
 * from any thread.
 */
public final class ServiceState {

  private final HttpDrain drain;
  private volatile LifecyclePhase phase = LifecyclePhase.SERVING;
  private volatile PreStopDelay.Ended delayEnded;

  ServiceState(HttpDrain drain) {
    this.drain = drain;
  }

  /** Where the lifecycle is; readiness fails from {@link LifecyclePhase#DELAY} on. */
  public LifecyclePhase phase() {
    return phase;
  }

  /** What the drain has done so far, over every event loop. */
  public DrainResult result() {
    return drain.result();
  }

  /** Requests being served or held, over every event loop. */
  public long requestsInFlight() {
    return drain.requestsInFlight();
  }

  /** Open connections, over every event loop. */
  public long connectionsOpen() {
    return drain.connectionsOpen();
  }

  /** Connections closed at once because {@code HTTP_MAX_CONNECTIONS} were open. */
  public long connectionsRefused() {
    return drain.connectionsRefused();
  }

  /** Connections told to go for their age ({@code HTTP_MAX_CONNECTION_AGE_MS}). */
  public long connectionsRetired() {
    return drain.connectionsRetired();
  }

  /** Connections the drain has closed: after a response, idle, or at the deadline. */
  public long connectionsClosedByDrain() {
    return drain.connectionsClosedByDrain();
  }

  /**
   * How long the pre-stop delay lasted, in milliseconds; -1 until it has ended (or if there was
   * none).
   */
  public long delayMs() {
    PreStopDelay.Ended e = delayEnded;
    return e == null ? -1 : e.afterMs();
  }

  /** Whether the quiet period ended the pre-stop delay, rather than its longest. */
  public boolean delayEndedQuiet() {
    PreStopDelay.Ended e = delayEnded;
    return e != null && e.quiet();
  }

  void delayEnded(PreStopDelay.Ended ended) {
    delayEnded = ended;
  }

  /** Moves to a later phase; only the {@link Service} does. */
  void advance(LifecyclePhase next) {
    phase = next;
  }
}
