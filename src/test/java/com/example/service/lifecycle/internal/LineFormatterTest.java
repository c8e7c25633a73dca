package com.example.service.lifecycle.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.example.service.LogCapture;
import com.example.service.lifecycle.Logging;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
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

  @Test
  void aLineWithFieldsKeepsItsMessageAsWrittenBracesAndQuotesToo() {
    Logger logger = Logger.getLogger("test.braces");
    logger.setUseParentHandlers(false);
    LogRecord record;
    try (LogCapture capture = LogCapture.of("test.braces")) {
      // A client's path, as the access log writes it.
      Logging.log(logger, Level.INFO, "GET /{0}'x 404 0.1 ms", Map.of("path", "/{0}'x"));
      record = capture.records().get(0);
    }
    assertThat(new LineFormatter().format(record)).contains("[test.braces] GET /{0}'x 404 0.1 ms");
    JsonObject line = new JsonObject(new JsonLineFormatter().format(record));
    assertThat(line.getString("message")).isEqualTo("GET /{0}'x 404 0.1 ms");
    assertThat(line.getString("path")).isEqualTo("/{0}'x");
  }
}
