package com.example.service.example;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.handler.HttpException;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs jobs: waits {@code ms} on a timer (standing in for real non-blocking work), has the {@link
 * JobStore} commit the job, then replies with it. A job whose client has gone ({@link #CANCEL})
 * while it still waits is dropped uncommitted, so no job is committed that nobody was told of. Its
 * stop waits for the jobs in progress.
 */
public final class WorkerVerticle extends VerticleBase {

  static final String ADDRESS = "example.work";

  /** A job's id: its client will not read the answer (the shutdown's deadline answered it). */
  static final String CANCEL = "example.work.cancel";

  private final JobStore store;
  private final Map<String, Job> jobs = new HashMap<>();

  public WorkerVerticle(JobStore store) {
    this.store = store;
  }

  private static final class Job {
    final Message<JsonObject> request;
    final Promise<Void> done = Promise.promise();
    long timer = -1;

    Job(Message<JsonObject> request) {
      this.request = request;
    }
  }

  @Override
  public Future<?> start() {
    return Future.all(
        vertx.eventBus().<JsonObject>consumer(ADDRESS, this::run).completion(),
        vertx.eventBus().<String>consumer(CANCEL, this::cancel).completion());
  }

  private void run(Message<JsonObject> request) {
    Job job = new Job(request);
    String id = request.body().getString("id");
    jobs.put(id, job);
    int ms = request.body().getInteger("ms");
    if (ms == 0) {
      commit(id, job);
    } else {
      job.timer =
          vertx.setTimer(
              ms,
              t -> {
                job.timer = -1;
                commit(id, job);
              });
    }
  }

  private void commit(String id, Job job) {
    store
        .insert(job.request.body())
        .onComplete(
            job.request::reply,
            err -> {
              HttpException http = (HttpException) err;
              job.request.fail(http.getStatusCode(), http.getPayload());
            })
        .onComplete(ar -> finish(id, job));
  }

  private void cancel(Message<String> id) {
    Job job = jobs.get(id.body());
    // A job already committing runs on: its client can learn its id by retrying with its key.
    if (job != null && job.timer != -1) {
      vertx.cancelTimer(job.timer);
      job.request.fail(503, "cancelled: the client's request was answered without it");
      finish(id.body(), job);
    }
  }

  private void finish(String id, Job job) {
    jobs.remove(id);
    job.done.complete();
  }

  /** Finishes the jobs in progress; the lifecycle bounds how long that may take. */
  @Override
  public Future<?> stop() {
    return Future.join(jobs.values().stream().map(j -> j.done.future()).toList());
  }
}
