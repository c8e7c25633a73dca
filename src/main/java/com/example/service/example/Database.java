package com.example.service.example;

import com.example.service.lifecycle.Config;
import com.example.service.lifecycle.Logging;
import io.vertx.core.Vertx;
import io.vertx.jdbcclient.JDBCConnectOptions;
import io.vertx.jdbcclient.JDBCPool;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Where the example's jobs live: PostgreSQL through vertx-pg-client for a {@code postgresql://}
 * URL, or an embedded H2 file database through vertx-jdbc-client for a {@code jdbc:h2:} one. Both
 * take the same SQL: H2 runs in its PostgreSQL mode.
 *
 * @param url {@code DATABASE_URL}
 * @param user {@code DATABASE_USER}, or null for the URL's
 * @param password {@code DATABASE_PASSWORD}, or null for the URL's
 * @param poolSize {@code DATABASE_POOL_SIZE}
 */
public record Database(String url, String user, String password, int poolSize) {

  /**
   * {@code postgresql://[user[:password]@]host[:port]/database[?options]}, or {@code jdbc:h2:...}
   * for an embedded H2 database (the shipped config: a file under {@code data/}).
   */
  public static final Config.Key<String> DATABASE_URL =
      new Config.Key<>("DATABASE_URL", Database::checkUrl, null, false);

  /** The user, if not in the URL: so that a Kubernetes Secret can hold it apart. */
  public static final Config.Key<String> DATABASE_USER = Config.text("DATABASE_USER").orElse(null);

  /** The password, if not in the URL. */
  public static final Config.Key<String> DATABASE_PASSWORD =
      Config.text("DATABASE_PASSWORD").orElse(null);

  /** The most connections the pool opens. */
  public static final Config.Key<Integer> DATABASE_POOL_SIZE =
      Config.integer("DATABASE_POOL_SIZE", 1, 200).orElse(8);

  /**
   * What the template adds to an H2 URL: PostgreSQL's SQL and lower-case names, so one set of
   * statements serves both; and each commit written at once, not up to half a second later, so an
   * acknowledged job survives {@code kill -9}.
   */
  static final String H2_SETTINGS =
      ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;WRITE_DELAY=0";

  /**
   * Flyway reports each step at INFO: {@link #migrate} logs one line instead, and a migration that
   * fails reaches the log once, as the startup's failure. Held here: JUL keeps loggers weakly.
   */
  private static final Logger FLYWAY = Logger.getLogger("org.flywaydb");

  private static final Logger LOG = Logger.getLogger("database");

  /** The database the configuration names. */
  public static Database from(Config config) {
    return new Database(
        config.get(DATABASE_URL),
        config.get(DATABASE_USER),
        config.get(DATABASE_PASSWORD),
        config.get(DATABASE_POOL_SIZE));
  }

  private static String checkUrl(String url) {
    if (url.startsWith("jdbc:h2:")) {
      return url;
    }
    if (url.startsWith("postgresql://") || url.startsWith("postgres://")) {
      try {
        PgConnectOptions.fromUri(url);
        return url;
      } catch (RuntimeException e) {
        throw new Config.ConfigException(
            "invalid DATABASE_URL=" + redacted(url) + ": " + e.getMessage());
      }
    }
    throw new Config.ConfigException(
        "invalid DATABASE_URL="
            + redacted(url)
            + ": expected postgresql://host/database or jdbc:h2:...");
  }

  /** The URL without a password, for the log. */
  static String redacted(String url) {
    return url.replaceFirst("^([a-z]+://[^:/@]*):[^@/]*@", "$1:***@");
  }

  boolean postgres() {
    return !url.startsWith("jdbc:h2:");
  }

  /** A pool named {@code jobs}: its metrics on /metrics carry that name. */
  Pool pool(Vertx vertx) {
    PoolOptions options = new PoolOptions().setMaxSize(poolSize).setName("jobs");
    if (postgres()) {
      return PgBuilder.pool().with(options).connectingTo(pgOptions()).using(vertx).build();
    }
    JDBCConnectOptions jdbc = new JDBCConnectOptions().setJdbcUrl(url + H2_SETTINGS);
    if (user != null) {
      jdbc.setUser(user);
    }
    if (password != null) {
      jdbc.setPassword(password);
    }
    return JDBCPool.pool(vertx, jdbc, options);
  }

  /** Brings the schema up to date with {@code src/main/resources/db/migration}. Blocks. */
  void migrate() {
    String jdbcUrl;
    String jdbcUser = user;
    String jdbcPassword = password;
    if (postgres()) {
      PgConnectOptions pg = pgOptions();
      jdbcUrl = "jdbc:postgresql://" + pg.getHost() + ":" + pg.getPort() + "/" + pg.getDatabase();
      jdbcUser = pg.getUser();
      jdbcPassword = pg.getPassword();
    } else {
      jdbcUrl = url + H2_SETTINGS;
    }
    FLYWAY.setLevel(Level.WARNING);
    long start = System.nanoTime();
    MigrateResult result =
        Flyway.configure().dataSource(jdbcUrl, jdbcUser, jdbcPassword).load().migrate();
    long tookMs = (System.nanoTime() - start) / 1_000_000;
    String version =
        result.targetSchemaVersion != null
            ? result.targetSchemaVersion
            : result.initialSchemaVersion;
    Logging.log(
        LOG,
        Level.INFO,
        "database schema at version "
            + version
            + " ("
            + result.migrationsExecuted
            + " migrations applied) in "
            + tookMs
            + " ms",
        Map.of(
            "schema_version",
            String.valueOf(version),
            "migrations_applied",
            result.migrationsExecuted,
            "elapsed_ms",
            tookMs));
  }

  private PgConnectOptions pgOptions() {
    PgConnectOptions options = PgConnectOptions.fromUri(url);
    if (user != null) {
      options.setUser(user);
    }
    if (password != null) {
      options.setPassword(password);
    }
    return options;
  }
}
