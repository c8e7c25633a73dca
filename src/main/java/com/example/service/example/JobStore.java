package com.example.service.example;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The jobs table, behind the event bus: {@link #INSERT} commits a job, {@link #FIND} reads one,
 * {@link #PING} answers while the database does. Its start migrates the schema before anything can
 * ask it; its stop closes the pool. Deployed first, it is stopped last: after HTTP has drained and
 * the worker has finished its jobs.
 *
 * <p>Failures answer with the status a client should see: 404 for no such job, 422 for an
 * idempotency key reused with a different request, 503 while the database cannot be reached.
 */
public final class JobStore extends VerticleBase {

  static final String INSERT = "example.store.insert";
  static final String FIND = "example.store.find";
  static final String PING = "example.store.ping";

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
  private Pool pool;
  private List<MessageConsumer<?>> consumers = List.of();

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
        .compose(
            v -> {
              pool = database.pool(vertx);
              consumers =
                  List.of(
                      vertx.eventBus().<JsonObject>consumer(INSERT, this::insert),
                      vertx.eventBus().<String>consumer(FIND, this::find),
                      vertx.eventBus().consumer(PING, this::ping));
              return Future.all(consumers.stream().map(MessageConsumer::completion).toList());
            });
  }

  /** Commits {@code {id, ms, key?, hash?}}; answers the job, or the first one with its key. */
  private void insert(Message<JsonObject> message) {
    JsonObject job = message.body();
    Map<String, Object> params = new HashMap<>();
    params.put("id", job.getString("id"));
    params.put("ms", job.getInteger("ms"));
    params.put("key", job.getString("key"));
    params.put("hash", job.getString("hash"));
    pool.withTransaction(
            conn ->
                SqlTemplate.forUpdate(conn, INSERT_SQL)
                    .execute(params)
                    .compose(
                        inserted ->
                            inserted.rowCount() == 1
                                ? Future.succeededFuture(job(job.getString("id"), params.get("ms")))
                                : firstWithKey(conn, job)))
        .onComplete(
            message::reply,
            err -> {
              if (err instanceof Refused refused) {
                message.fail(refused.status, refused.getMessage());
              } else {
                message.fail(503, "database unavailable: " + rootCause(err));
              }
            });
  }

  private static Future<JsonObject> firstWithKey(SqlConnection conn, JsonObject job) {
    return SqlTemplate.forQuery(conn, BY_KEY)
        .execute(Map.of("key", job.getString("key")))
        .compose(
            rows -> {
              Row first = single(rows);
              if (first == null) {
                // Only a key conflicts: the row that did is committed, or this insert had waited.
                return Future.failedFuture("no job with a conflicting key");
              }
              if (!first.getString("request_hash").equals(job.getString("hash"))) {
                return Future.failedFuture(
                    new Refused(422, "Idempotency-Key was used with a different request"));
              }
              return Future.succeededFuture(job(first.getString("id"), first.getValue("ms")));
            });
  }

  private void find(Message<String> message) {
    SqlTemplate.forQuery(pool, BY_ID)
        .execute(Map.of("id", message.body()))
        .onComplete(
            rows -> {
              Row row = single(rows);
              if (row == null) {
                message.fail(404, "no job " + message.body());
              } else {
                message.reply(job(row.getString("id"), row.getValue("ms")));
              }
            },
            err -> message.fail(503, "database unavailable: " + rootCause(err)));
  }

  private void ping(Message<Object> message) {
    pool.query("SELECT 1")
        .execute()
        .onComplete(
            rows -> message.reply(null),
            err -> message.fail(503, "database unavailable: " + rootCause(err)));
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

  /** Stops taking requests, then closes the pool: nothing is left to ask it. */
  @Override
  public Future<?> stop() {
    return Future.join(consumers.stream().map(MessageConsumer::unregister).toList())
        .eventually(() -> pool.close());
  }

  /** A request the store refuses with a client's status. */
  private static final class Refused extends RuntimeException {
    final int status;

    Refused(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }
}
