package com.example.service.example;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Runs jobs: waits {@code ms} on a timer (standing in for real non-blocking work), has the {@link
 * JournalVerticle} record the job, then replies. Its stop waits for the jobs in progress.
 */
public final class WorkerVerticle extends VerticleBase {

  static final String ADDRESS = "example.work";

  private final Set<Future<Void>> jobs = new HashSet<>();

  @Override
  public Future<?> start() {
    return vertx.eventBus().<JsonObject>consumer(ADDRESS, this::run).completion();
  }

  private void run(Message<JsonObject> job) {
    Promise<Void> done = Promise.promise();
    jobs.add(done.future());
    long ms = job.body().getLong("ms");
    // Vert.x timers take at least 1 ms.
    Future<Void> work = ms == 0 ? Future.succeededFuture() : vertx.timer(ms).mapEmpty();
    work.compose(v -> vertx.eventBus().request(JournalVerticle.ADDRESS, job.body()))
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                job.reply(job.body());
              } else {
                job.fail(500, ar.cause().getMessage());
              }
              jobs.remove(done.future());
              done.complete();
            });
  }

  /** Finishes the jobs in progress; the lifecycle bounds how long that may take. */
  @Override
  public Future<?> stop() {
    return Future.join(List.copyOf(jobs));
  }
}
