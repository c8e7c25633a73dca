package com.example.service.lifecycle;

import com.example.service.lifecycle.internal.HttpDrain;

/**
 * What a running service is doing, read-only: its phase and the HTTP drain's counts. Readiness and
 * the metrics read it; so may an application's own checks and a test. Every method may be called
 * from any thread.
 */
public final class ServiceState {

  private final HttpDrain drain;
  private volatile LifecyclePhase phase = LifecyclePhase.SERVING;

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

  /** Connections the drain has closed: after a response, idle, or at the deadline. */
  public long connectionsClosedByDrain() {
    return drain.connectionsClosedByDrain();
  }

  /** Moves to a later phase; only the {@link Service} does. */
  void advance(LifecyclePhase next) {
    phase = next;
  }
}
