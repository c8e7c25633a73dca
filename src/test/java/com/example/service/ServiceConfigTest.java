package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.example.service.ServiceConfig.ConfigException;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Configuration precedence and validation. The build runs this with SHUTDOWN_DELAY_MS=250 and
 * SHUTDOWN_IDLE_MS=250 in the environment (see the surefire configuration in pom.xml).
 */
@ExtendWith(VertxExtension.class)
class ServiceConfigTest {

  @TempDir Path dir;

  @AfterEach
  void clearSystemProperty() {
    System.clearProperty("SHUTDOWN_IDLE_MS");
  }

  private static JsonObject valid() {
    return new JsonObject()
        .put("HTTP_HOST", "0.0.0.0")
        .put("HTTP_PORT", 8080)
        .put("SHUTDOWN_DELAY_MS", 100)
        .put("SHUTDOWN_TIMEOUT_MS", 5000)
        .put("SHUTDOWN_IDLE_MS", 100)
        .put("JOURNAL_PATH", "data/journal.jsonl");
  }

  @Test
  void environmentOverridesTheFileAndSystemPropertiesOverrideBoth(Vertx vertx) throws Exception {
    assertThat(System.getenv("SHUTDOWN_DELAY_MS")).as("set by the build").isEqualTo("250");
    Path file = dir.resolve("config.json");
    Files.writeString(file, valid().encode());
    System.setProperty("SHUTDOWN_IDLE_MS", "777");

    ServiceConfig config = ServiceConfig.load(vertx, file).await();

    assertThat(config.shutdownTimeoutMs()).as("file only").isEqualTo(5000);
    assertThat(config.shutdownDelayMs()).as("env over file").isEqualTo(250);
    assertThat(config.shutdownIdleMs()).as("sys over env and file").isEqualTo(777);
    assertThat(config.httpPort()).isEqualTo(8080);
    assertThat(config.journalPath()).isEqualTo(Path.of("data/journal.jsonl"));
  }

  @Test
  void theShippedFileIsValid(Vertx vertx) {
    ServiceConfig config = ServiceConfig.load(vertx, Path.of("conf", "config.json")).await();
    assertThat(config.httpPort()).isEqualTo(8080);
    assertThat(config.shutdownTimeoutMs()).isEqualTo(30_000);
  }

  @Test
  void aMissingFileIsAClearError(Vertx vertx) {
    Path missing = dir.resolve("nope.json");
    assertThatThrownBy(() -> ServiceConfig.load(vertx, missing).await())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("cannot read " + missing);
  }

  @Test
  void badValuesNameTheKeyAndTheValue() {
    assertRejected(
        "HTTP_PORT", 70000, "invalid HTTP_PORT=70000: expected an integer from 0 to 65535");
    assertRejected("HTTP_PORT", "http", "invalid HTTP_PORT=http");
    assertRejected("SHUTDOWN_TIMEOUT_MS", -5, "invalid SHUTDOWN_TIMEOUT_MS=-5");
    assertRejected("SHUTDOWN_DELAY_MS", "1.5", "invalid SHUTDOWN_DELAY_MS=1.5");
    assertRejected("SHUTDOWN_IDLE_MS", "", "SHUTDOWN_IDLE_MS is missing or empty");
    JsonObject noJournal = valid();
    noJournal.remove("JOURNAL_PATH");
    assertThatThrownBy(() -> ServiceConfig.from(noJournal))
        .isInstanceOf(ConfigException.class)
        .hasMessage("JOURNAL_PATH is missing or empty");
  }

  @Test
  void numbersMayBeStringsAsEnvironmentVariablesAre() {
    ServiceConfig config = ServiceConfig.from(valid().put("HTTP_PORT", "9090"));
    assertThat(config.httpPort()).isEqualTo(9090);
  }

  private static void assertRejected(String key, Object value, String message) {
    assertThatThrownBy(() -> ServiceConfig.from(valid().put(key, value)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(message);
  }
}
