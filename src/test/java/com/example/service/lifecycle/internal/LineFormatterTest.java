package com.example.service.lifecycle.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class LineFormatterTest {

  private static LogRecord at(String instant) {
    LogRecord record = new LogRecord(Level.INFO, "stopped http in 5 ms");
    record.setLoggerName("lifecycle");
    record.setInstant(Instant.parse(instant));
    return record;
  }

  @Test
  void aWholeSecondKeepsItsMilliseconds() {
    assertThat(new LineFormatter().format(at("2026-12-04T03:14:05Z")))
        .startsWith("2026-12-04T03:14:05.000Z INFO    [lifecycle] stopped http in 5 ms");
    assertThat(new LineFormatter().format(at("2026-12-04T03:14:05.020Z")))
        .startsWith("2026-12-04T03:14:05.020Z INFO ");
    // Below a millisecond is cut, as the record's milliseconds would be.
    assertThat(new LineFormatter().format(at("2026-12-04T03:14:05.020999Z")))
        .startsWith("2026-12-04T03:14:05.020Z INFO ");
  }

  @Test
  void theJsonTimestampHasTheSameWidth() {
    JsonObject line = new JsonObject(new JsonLineFormatter().format(at("2026-12-04T03:14:05Z")));
    assertThat(line.getString("timestamp")).isEqualTo("2026-12-04T03:14:05.000Z");
  }
}
