package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * SIGTERM in the middle of a closed-loop keep-alive load: no request sent on a connection the
 * service had accepted before the signal may fail, and every id answered 200 is in the journal.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class LoadShutdownIT {

  static final int CLIENTS = 16;

  @TempDir Path dir;

  @ParameterizedTest(name = "{0} with SHUTDOWN_DELAY_MS={1}")
  @CsvSource({"/hello, 0", "/hello, 1000", "/work?ms=5, 0", "/work?ms=5, 1000"})
  void noRequestFailsOnConnectionsOpenedBeforeSigterm(String path, int delayMs) throws Exception {
    Path journal = dir.resolve("journal.jsonl");
    try (ServiceProcess service =
        ServiceProcess.start(journal, Map.of("SHUTDOWN_DELAY_MS", Integer.toString(delayMs)))) {
      LoadClient load = new LoadClient("127.0.0.1", service.port(), path, CLIENTS, 50L * CLIENTS);
      load.start();
      load.warm().get(30, TimeUnit.SECONDS);

      load.markSignal();
      service.signal("TERM");
      int status = service.awaitExit(Duration.ofSeconds(30));
      load.stop();

      System.out.println(
          "load result: " + path + " delay=" + delayMs + " exit=" + status + " " + load.json());
      assertThat(load.failures(false)).as("failed on connections opened before SIGTERM").isZero();
      assertThat(load.total(LoadClient.Outcome.OK)).isGreaterThanOrEqualTo(50L * CLIENTS);
      assertThat(status).isZero();
      if (path.startsWith("/work")) {
        String journaled = Files.readString(journal);
        assertThat(load.ids()).isNotEmpty().allSatisfy(id -> assertThat(journaled).contains(id));
      }
    }
  }
}
