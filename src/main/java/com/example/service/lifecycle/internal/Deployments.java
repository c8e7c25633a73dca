package com.example.service.lifecycle.internal;

import static java.util.concurrent.TimeUnit.MILLISECONDS;

import com.example.service.lifecycle.Logging;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The service's verticles, deployed one after another, each under the name the log gives it, and
 * undeployed in reverse order under the shutdown's {@link Deadline}.
 */
public final class Deployments {

  private static final Logger LOG = Logger.getLogger("lifecycle");

  private record Deployed(String name, String id) {}

  private final Vertx vertx;

  // Guarded by this: a shutdown may begin while a deployment is under way.
  private final List<Deployed> deployed = new ArrayList<>();
  private Deadline stopping;

  public Deployments(Vertx vertx) {
    this.vertx = vertx;
  }

  /**
   * Deploys what {@code deployment} deploys, recorded under {@code name} once it has started.
   *
   * @return its failure carries a message naming it
   */
  public Future<Void> deploy(String name, Supplier<Future<String>> deployment) {
    return deployment
        .get()
        .recover(
            err -> Future.failedFuture(new IllegalStateException(name + ": " + err.getMessage())))
        .map(
            id -> {
              Deployed started = new Deployed(name, id);
              Deadline late;
              synchronized (this) {
                deployed.add(started);
                late = stopping;
              }
              if (late != null) {
                // Given up on while it started, and the ones it depends on are stopping: at once.
                undeploy(started, late);
              }
              return null;
            });
  }

  /**
   * Undeploys each deployment in reverse order, until the deadline's {@link
   * Deadline#componentsMs()}; one still stopping then is given up with one WARNING line, and the
   * ones after it get {@link Deadline#LATE_STOP_MS} each. One that completes its start after this
   * is undeployed as it does.
   *
   * @return true if every one stopped in time
   */
  public Future<Boolean> stopAll(Deadline deadline) {
    List<Deployed> all;
    synchronized (this) {
      stopping = deadline;
      all = List.copyOf(deployed);
    }
    Future<Boolean> chain = Future.succeededFuture(true);
    for (int i = all.size() - 1; i >= 0; i--) {
      Deployed component = all.get(i);
      chain = chain.compose(stopped -> undeploy(component, deadline).map(ok -> stopped && ok));
    }
    return chain;
  }

  private Future<Boolean> undeploy(Deployed component, Deadline deadline) {
    long startMs = deadline.elapsedMs();
    long boundMs =
        startMs < deadline.componentsMs()
            ? deadline.untilMs(deadline.componentsMs())
            : Math.min(Deadline.LATE_STOP_MS, deadline.untilMs(deadline.lateStopsMs()));
    return vertx
        .undeploy(component.id())
        .timeout(boundMs, MILLISECONDS)
        .transform(
            ar -> {
              long tookMs = deadline.elapsedMs() - startMs;
              if (ar.succeeded()) {
                Logging.log(
                    LOG,
                    Level.INFO,
                    "stopped " + component.name() + " in " + tookMs + " ms",
                    Map.of("component", component.name(), "elapsed_ms", tookMs));
              } else {
                LOG.warning(component.name() + " did not stop within " + boundMs + " ms");
              }
              return Future.succeededFuture(ar.succeeded());
            });
  }
}
