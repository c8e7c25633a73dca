package com.example.service.lifecycle;

/** Where the service is in its life, for readiness and the log. */
public enum LifecyclePhase {
  /** Serving normally; ready. */
  SERVING,
  /** After a shutdown signal, still serving with readiness failing (SHUTDOWN_DELAY_MS). */
  DELAY,
  /** Closing the listener and draining the requests in flight. */
  DRAINING,
  /** HTTP has drained; stopping the components in reverse order. */
  STOPPING
}
