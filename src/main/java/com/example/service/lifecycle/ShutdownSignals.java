package com.example.service.lifecycle;

import com.example.service.lifecycle.internal.Internals;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Logger;

/**
 * Catches SIGTERM and SIGINT. The first one starts the graceful shutdown; a second one during it
 * exits at once with status 130.
 *
 * <p>A JVM shutdown hook cannot do this: once hooks run, the JVM ignores further signals. Handling
 * the signals ourselves also keeps the shutdown ahead of the JVM's own hooks, so logging still
 * works while it runs.
 *
 * <p>The handlers are {@code sun.misc.Signal}'s, through {@link Internals}.
 */
public final class ShutdownSignals {

  /** Exit status after a second signal. */
  public static final int FORCED_EXIT = 130;

  private static final Logger LOG = Logger.getLogger("shutdown");

  private final CompletableFuture<String> first = new CompletableFuture<>();
  private final List<String> ignored = new ArrayList<>();

  private ShutdownSignals() {}

  /**
   * Installs the handlers. A signal the process inherited as ignored (SIGINT for a job started with
   * {@code &} from a script) stays ignored, as the parent asked: {@link #warnIfIgnored} says so.
   */
  public static ShutdownSignals install() {
    ShutdownSignals signals = new ShutdownSignals();
    for (String name : new String[] {"TERM", "INT"}) {
      if (Internals.handleSignal(name, () -> signals.received("SIG" + name))) {
        signals.ignored.add("SIG" + name);
      }
    }
    return signals;
  }

  /**
   * Logs one WARNING line if the parent process started this one with SIGTERM or SIGINT ignored:
   * that signal then cannot stop the service, and nothing else would say why.
   */
  public void warnIfIgnored() {
    if (!ignored.isEmpty()) {
      String names = String.join(" and ", ignored);
      LOG.warning(
          names
              + " ignored: the parent process started this one with "
              + (ignored.size() == 1 ? "it" : "them")
              + " ignored (a job started with & from a script), so "
              + (ignored.size() == 1 ? "it does" : "they do")
              + " not stop the service; start it with env --default-signal="
              + String.join(",", ignored).replace("SIG", ""));
    }
  }

  private void received(String name) {
    if (!first.complete(name)) {
      LOG.severe(name + " received during shutdown: exiting now with status " + FORCED_EXIT);
      Logging.flush();
      Runtime.getRuntime().halt(FORCED_EXIT);
    }
  }

  /** Completes with the first signal's name, e.g. {@code SIGTERM}, on the thread that got it. */
  public Future<String> received() {
    return Future.fromCompletionStage(first);
  }

  /** Blocks until the first signal arrives and returns its name, e.g. {@code SIGTERM}. */
  public String await() {
    return first.join();
  }
}
