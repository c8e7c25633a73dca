package com.example.service.example;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The database benchmark's baseline: {@code POST /work} as a bare Vert.x service would write it.
 * One vertx-web route inserts the job with the same pool ({@link Database#pool}, the same options)
 * and the same statement ({@link JobStore#INSERT_SQL}) straight from the HTTP event loop, and
 * answers {@code 201} with its id; no components, no event bus, no drain.
 */
public final class BaselineWorkMain extends VerticleBase {

  private final String host;
  private final int port;
  private final Pool pool;
  private HttpServer server;

  private BaselineWorkMain(String host, int port, Pool pool) {
    this.host = host;
    this.port = port;
    this.pool = pool;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router
        .post("/work")
        .handler(BodyHandler.create(false))
        .handler(
            ctx -> {
              int ms = ctx.body().asJsonObject().getInteger("ms");
              String id = UUID.randomUUID().toString();
              Map<String, Object> params = new HashMap<>();
              params.put("id", id);
              params.put("ms", ms);
              params.put("key", null);
              params.put("hash", null);
              SqlTemplate.forUpdate(pool, JobStore.INSERT_SQL)
                  .execute(params)
                  .onComplete(
                      ok ->
                          ctx.response()
                              .setStatusCode(201)
                              .putHeader("content-type", "application/json")
                              .end(new JsonObject().put("id", id).put("ms", ms).encode()),
                      err -> ctx.fail(503, err));
            });
    server = vertx.createHttpServer().requestHandler(router);
    return server
        .listen(port == 0 ? -1 : port, host)
        .onSuccess(s -> System.out.println("listening on " + host + ":" + s.actualPort() + " "));
  }

  @Override
  public Future<?> stop() {
    return server.shutdown(30, TimeUnit.SECONDS);
  }

  public static void main(String[] args) {
    String host = System.getenv().getOrDefault("HTTP_HOST", "127.0.0.1");
    int port = Integer.parseInt(System.getenv().getOrDefault("HTTP_PORT", "8080"));
    int instances = Integer.parseInt(System.getenv().getOrDefault("HTTP_INSTANCES", "1"));
    Database database =
        new Database(
            System.getenv("DATABASE_URL"),
            null,
            null,
            Integer.parseInt(System.getenv().getOrDefault("DATABASE_POOL_SIZE", "8")));
    database.migrate();
    Vertx vertx = Vertx.vertx();
    Pool pool = database.pool(vertx);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> vertx.close().await()));
    vertx
        .deployVerticle(
            () -> new BaselineWorkMain(host, port, pool),
            new DeploymentOptions().setInstances(instances))
        .onFailure(
            err -> {
              System.err.println("cannot listen: " + err.getMessage());
              System.exit(2);
            });
  }
}
