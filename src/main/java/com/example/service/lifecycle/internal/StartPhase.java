package com.example.service.lifecycle.internal;

/**
 * Where the service's start is, for a shutdown signal that may cut it short: only while the
 * components start. Changed only here, under its lock: the signal arrives on a thread of its own,
 * the start's steps on Vert.x's.
 */
public final class StartPhase {

  private enum Phase {
    /** The application's components start, one after another. */
    COMPONENTS,
    /** The HTTP verticles deploy: a signal now waits for the service to listen. */
    HTTP,
    /** A signal came while the components started: no further one starts, nor HTTP. */
    CUT_SHORT
  }

  private Phase phase = Phase.COMPONENTS;
  private String starting;

  /** Whether the component may start, then the one starting: not once the start is cut short. */
  public synchronized boolean beginComponent(String name) {
    if (phase != Phase.COMPONENTS) {
      return false;
    }
    starting = name;
    return true;
  }

  /** Whether HTTP may begin: not once the start is cut short. No signal cuts it short after. */
  public synchronized boolean beginHttp() {
    return moveFromComponents(Phase.HTTP);
  }

  /** Cuts the start short, if the components still start; whether it did. */
  public synchronized boolean cutShort() {
    return moveFromComponents(Phase.CUT_SHORT);
  }

  /** Whether a signal cut the start short. */
  public synchronized boolean isCutShort() {
    return phase == Phase.CUT_SHORT;
  }

  /** The name of the last component that began to start, or null. */
  public synchronized String starting() {
    return starting;
  }

  private boolean moveFromComponents(Phase next) {
    if (phase != Phase.COMPONENTS) {
      return false;
    }
    phase = next;
    return true;
  }
}
