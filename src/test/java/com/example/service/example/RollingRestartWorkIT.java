package com.example.service.example;

import static org.assertj.core.api.Assertions.assertThat;

import com.example.service.RollingRestart;
import com.example.service.ServiceProcess;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compose topology with its database: three instances of the example's jar on one real
 * PostgreSQL behind HAProxy, restarted one at a time under a load of {@code POST /work}. No request
 * fails, and the database holds exactly the jobs the clients were told of.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RollingRestartWorkIT {

  @TempDir Path dir;

  @Test
  void aRollingRestartOnPostgresqlLosesAndDuplicatesNoJob() throws Exception {
    boolean haproxy = new ProcessBuilder("sh", "-c", "command -v haproxy").start().waitFor() == 0;
    // Skipped on a developer machine without HAProxy; CI installs it, so there it must run.
    Assumptions.assumeTrue(haproxy || System.getenv("CI") != null, "haproxy is not installed");
    assertThat(haproxy).as("haproxy on the PATH").isTrue();

    try (Postgres postgres = Postgres.start()) {
      String db = postgres.createDatabase();
      RollingRestart.Report report;
      try (RollingRestart topology =
          new RollingRestart(
                  dir, RollingRestart.SHUTDOWN_DELAY_MS, RollingRestart.SHUTDOWN_QUIET_MS, 2)
              .with(
                  (instanceDir, env) -> {
                    Map<String, String> all = new HashMap<>(env);
                    all.put("DATABASE_URL", postgres.url(db));
                    return ServiceProcess.javaIn(
                            Path.of("").toAbsolutePath(),
                            List.of("-jar", ServiceProcess.jar()),
                            instanceDir,
                            all)
                        .quiet();
                  },
                  "/work",
                  "{\"ms\":1}")) {
        report = topology.run(16, 0);
      }
      System.out.println("rolling restart result: " + report);
      List<String> committed = Postgres.column(postgres.connect(db), "SELECT id FROM jobs");
      assertThat(report.exitCodes()).containsExactly(0, 0, 0);
      assertThat(report.failed()).as("failed client requests").isZero();
      assertThat(report.retried()).as("requests HAProxy sent to a closed listener").isZero();
      assertThat(report.load().ids()).hasSize((int) report.served());
      assertThat(Postgres.repeated(committed)).isEmpty();
      assertThat(new HashSet<>(committed)).isEqualTo(report.load().ids());
    }
  }
}
