package com.example.service.example;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.List;

/**
 * A database of the example's for one test: an H2 file in the test's directory, or a new database
 * on the tests' PostgreSQL server. Every store test runs against both.
 *
 * @param url the service's {@code DATABASE_URL}
 */
public record TestDatabase(String kind, String url, Connector connector) {

  /** Opens a JDBC connection to the database. */
  @FunctionalInterface
  public interface Connector {
    Connection connect() throws SQLException;
  }

  /** {@code kind} is {@code h2} or {@code postgresql}. */
  public static TestDatabase of(String kind, Path dir, Postgres postgres) throws SQLException {
    if (kind.equals("h2")) {
      String url = "jdbc:h2:file:" + dir.toAbsolutePath().resolve("jobs");
      return new TestDatabase(
          kind, url, () -> DriverManager.getConnection(url + Database.H2_SETTINGS));
    }
    String name = postgres.createDatabase();
    return new TestDatabase(kind, postgres.url(name), () -> postgres.connect(name));
  }

  /** The ids of the committed jobs, a repeated one as often as it is there. */
  public List<String> jobIds() throws SQLException {
    return Postgres.column(connector.connect(), "SELECT id FROM jobs");
  }

  /** The idempotency keys of the committed jobs. */
  public List<String> keys() throws SQLException {
    return Postgres.column(
        connector.connect(), "SELECT idempotency_key FROM jobs WHERE idempotency_key IS NOT NULL");
  }

  @Override
  public String toString() {
    return kind;
  }
}
