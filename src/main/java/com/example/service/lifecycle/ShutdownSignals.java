package com.example.service.lifecycle;

import java.util.concurrent.CompletableFuture;
import java.util.logging.Logger;
import sun.misc.Signal;

/**
 * Catches SIGTERM and SIGINT. The first one starts the graceful shutdown; a second one during it
 * exits at once with status 130.
 *
 * <p>A JVM shutdown hook cannot do this: once hooks run, the JVM ignores further signals. Handling
 * the signals ourselves also keeps the shutdown ahead of the JVM's own hooks, so logging still
 * works while it runs.
 */
public final class ShutdownSignals {

  /** Exit status after a second signal. */
  public static final int FORCED_EXIT = 130;

  private static final Logger LOG = Logger.getLogger("shutdown");

  private final CompletableFuture<String> first = new CompletableFuture<>();

  private ShutdownSignals() {}

  /**
   * Installs the handlers. A signal the process inherited as ignored (SIGINT for a job started with
   * {@code &} from a script) stays ignored, as the shell intended.
   */
  public static ShutdownSignals install() {
    ShutdownSignals signals = new ShutdownSignals();
    for (String name : new String[] {"TERM", "INT"}) {
      Signal.handle(new Signal(name), signal -> signals.received("SIG" + signal.getName()));
    }
    return signals;
  }

  private void received(String name) {
    if (!first.complete(name)) {
      LOG.severe(name + " received during shutdown: exiting now with status " + FORCED_EXIT);
      Logging.flush();
      Runtime.getRuntime().halt(FORCED_EXIT);
    }
  }

  /** Blocks until the first signal arrives and returns its name, e.g. {@code SIGTERM}. */
  public String await() {
    return first.join();
  }
}
