package com.example.service.example;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.util.HashMap;
import java.util.Map;

/**
 * The jobs table: {@link #insert} commits a job, {@link #find} reads one, {@link #ping} answers
 * while the database does. A component for its lifetime: its start migrates the schema before
 * anything can ask it, and its stop closes the pool. Deployed first, it is stopped last, after HTTP
 * has drained and the worker has finished its jobs.
 *
 * <p>Called directly, from any event loop, once started: the pool is safe to share, and each future
 * completes on its caller's event loop. An event-bus hop to a verticle that only forwards to the
 * pool would cost two thread hand-offs a query. Failures are vertx-web {@code HttpException}s with
 * the status a client should see ({@code Responses.reply} answers it): 404 for no such job, 422 for
 * an idempotency key reused with another request, 503 while the database cannot be reached.
 */
public final class JobStore extends VerticleBase {

  /**
   * A repeat of a keyed request inserts nothing, and then finds the first one's job. The unique key
   * holds this across replicas and restarts.
   */
  static final String INSERT_SQL =
      "INSERT INTO jobs (id, ms, idempotency_key, request_hash)"
          + " VALUES (#{id}, #{ms}, #{key}, #{hash}) ON CONFLICT DO NOTHING";

  private static final String BY_KEY =
      "SELECT id, ms, request_hash FROM jobs WHERE idempotency_key = #{key}";
  private static final String BY_ID = "SELECT id, ms FROM jobs WHERE id = #{id}";

  private final Database database;
  private volatile Pool pool;

  public JobStore(Database database) {
    this.database = database;
  }

  @Override
  public Future<?> start() {
    return vertx
        .executeBlocking(
            () -> {
              database.migrate();
              return null;
            })
        .recover(
            err ->
                Future.failedFuture(
                    "cannot migrate the database "
                        + Database.redacted(database.url())
                        + ": "
                        + rootCause(err)))
        .onSuccess(v -> pool = database.pool(vertx));
  }

  /**
   * Commits {@code {id, ms, key?, hash?}}: the job, or the first one made with its key.
   *
   * <p>One statement, committed on its own: a transaction around it would cost two more round
   * trips. On a key conflict it waits for the other insert's commit and inserts nothing; the query
   * after it then sees the committed job.
   */
  Future<JsonObject> insert(JsonObject job) {
    Map<String, Object> params = new HashMap<>();
    params.put("id", job.getString("id"));
    params.put("ms", job.getInteger("ms"));
    params.put("key", job.getString("key"));
    params.put("hash", job.getString("hash"));
    return unavailableOnError(
        SqlTemplate.forUpdate(pool, INSERT_SQL)
            .execute(params)
            .compose(
                inserted ->
                    inserted.rowCount() == 1
                        ? Future.succeededFuture(job(job.getString("id"), params.get("ms")))
                        : firstWithKey(job)));
  }

  private Future<JsonObject> firstWithKey(JsonObject job) {
    return SqlTemplate.forQuery(pool, BY_KEY)
        .execute(Map.of("key", job.getString("key")))
        .compose(
            rows -> {
              // Only a key conflicts, and the job that did is committed: it cannot vanish.
              Row first = rows.iterator().next();
              if (!first.getString("request_hash").equals(job.getString("hash"))) {
                return Future.failedFuture(
                    new HttpException(422, "Idempotency-Key was used with a different request"));
              }
              return Future.succeededFuture(job(first.getString("id"), first.getValue("ms")));
            });
  }

  /** The job with {@code id}, or a 404. */
  Future<JsonObject> find(String id) {
    return unavailableOnError(
        SqlTemplate.forQuery(pool, BY_ID)
            .execute(Map.of("id", id))
            .compose(
                rows -> {
                  Row row = single(rows);
                  return row == null
                      ? Future.failedFuture(new HttpException(404, "no job " + id))
                      : Future.succeededFuture(job(row.getString("id"), row.getValue("ms")));
                }));
  }

  /** Succeeds while the database answers a query. */
  Future<Void> ping() {
    return unavailableOnError(pool.query("SELECT 1").execute().mapEmpty());
  }

  private static <T> Future<T> unavailableOnError(Future<T> query) {
    return query.recover(
        err ->
            Future.failedFuture(
                err instanceof HttpException
                    ? err
                    : new HttpException(503, "database unavailable: " + rootCause(err), err)));
  }

  private static Row single(RowSet<Row> rows) {
    return rows.size() == 0 ? null : rows.iterator().next();
  }

  private static JsonObject job(String id, Object ms) {
    return new JsonObject().put("id", id).put("ms", ((Number) ms).intValue());
  }

  /** The innermost cause's first line: drivers' messages run to several lines. */
  static String rootCause(Throwable err) {
    Throwable root = err;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage() == null ? root.toString() : root.getMessage();
    return message.lines().findFirst().orElse(root.getClass().getSimpleName()).strip();
  }

  /** Closes the pool: HTTP and the worker, which ask it, have stopped. */
  @Override
  public Future<?> stop() {
    return pool == null ? Future.succeededFuture() : pool.close();
  }
}
