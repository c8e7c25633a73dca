package com.example.service.example;

import static org.assertj.core.api.Assertions.assertThat;

import com.example.service.ServiceProcess;
import com.example.service.lifecycle.Service;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A database the service cannot use at startup stops it before it listens: one log line naming the
 * problem (and no password), no stack trace, exit 2.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DatabaseStartupIT {

  @TempDir Path dir;

  private String failedStartup(String url) throws Exception {
    try (ServiceProcess service =
        ServiceProcess.javaIn(
            Path.of("").toAbsolutePath(),
            List.of("-jar", ServiceProcess.jar()),
            dir,
            Map.of("DATABASE_URL", url))) {
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isEqualTo(Service.EXIT_STARTUP_FAILED);
      String output = service.output();
      assertThat(output).doesNotContain("listening on").doesNotContain("\tat ");
      List<String> failures = output.lines().filter(l -> l.contains("startup failed")).toList();
      assertThat(failures).hasSize(1);
      assertThat(output.lines().filter(l -> l.contains("SEVERE") || l.contains("WARNING")))
          .as("the one line says it all")
          .hasSize(1);
      return failures.get(0);
    }
  }

  @Test
  void aUrlOfNoKnownDatabaseIsRefused() throws Exception {
    assertThat(failedStartup("mysql://db.internal/jobs"))
        .contains(
            "invalid DATABASE_URL=mysql://db.internal/jobs: expected postgresql://host/database"
                + " or jdbc:h2:...");
  }

  @Test
  void anUnreachableDatabaseIsNamedWithoutItsPassword() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    String line = failedStartup("postgresql://app:s3cret@127.0.0.1:" + closed + "/jobs");
    assertThat(line)
        .contains("store: cannot migrate the database postgresql://app:***@127.0.0.1:" + closed)
        .contains("Connection refused")
        .doesNotContain("s3cret");
  }

  @Test
  void aMigrationThatFailsStopsTheStartup() throws Exception {
    try (Postgres postgres = Postgres.start()) {
      String db = postgres.createDatabase();
      // A table of the schema's, but not made by its migrations: Flyway will not guess.
      try (Connection c = postgres.connect(db);
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE jobs (name TEXT)");
      }
      assertThat(failedStartup(postgres.url(db)))
          .contains("store: cannot migrate the database " + postgres.url(db))
          .contains("Found non-empty schema(s) \"public\" but no schema history table");
    }
  }
}
