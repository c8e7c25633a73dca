package com.example.service.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.example.service.lifecycle.Config.ConfigException;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Configuration precedence and validation, with the lifecycle's keys and one of an application's.
 * The build runs this with SHUTDOWN_DELAY_MS=250 and SHUTDOWN_IDLE_MS=250 in the environment (see
 * the surefire configuration in pom.xml).
 */
@ExtendWith(VertxExtension.class)
class ConfigTest {

  private static final Config.Key<Path> APP_PATH = Config.path("APP_PATH");
  private static final List<Config.Key<?>> KEYS = keys();

  @TempDir Path dir;

  private static List<Config.Key<?>> keys() {
    List<Config.Key<?>> keys = new ArrayList<>(LifecycleOptions.KEYS);
    keys.add(APP_PATH);
    return keys;
  }

  @AfterEach
  void clearSystemProperty() {
    System.clearProperty("SHUTDOWN_IDLE_MS");
  }

  private static JsonObject valid() {
    return new JsonObject()
        .put("HTTP_HOST", "127.0.0.1")
        .put("HTTP_PORT", 9090)
        .put("HTTP_INSTANCES", 2)
        .put("SHUTDOWN_DELAY_MS", 100)
        .put("SHUTDOWN_TIMEOUT_MS", 5000)
        .put("SHUTDOWN_IDLE_MS", 100)
        .put("APP_PATH", "data/app.txt");
  }

  private Path file(JsonObject json) throws Exception {
    Path file = dir.resolve("config.json");
    Files.writeString(file, json.encode());
    return file;
  }

  @Test
  void environmentOverridesTheFileAndSystemPropertiesOverrideBoth(Vertx vertx) throws Exception {
    assertThat(System.getenv("SHUTDOWN_DELAY_MS")).as("set by the build").isEqualTo("250");
    Path file = file(valid());
    System.setProperty("SHUTDOWN_IDLE_MS", "777");

    Config config = Config.load(vertx, KEYS, new String[] {file.toString()}).await();
    LifecycleOptions options = LifecycleOptions.from(config);

    assertThat(options.timeout()).as("file only").isEqualTo(Duration.ofMillis(5000));
    assertThat(options.delay()).as("env over file").isEqualTo(Duration.ofMillis(250));
    assertThat(options.idleGrace()).as("sys over env and file").isEqualTo(Duration.ofMillis(777));
    assertThat(options.port()).isEqualTo(9090);
    assertThat(options.instances()).isEqualTo(2);
    assertThat(config.get(APP_PATH)).isEqualTo(Path.of("data/app.txt"));
  }

  @Test
  void anUnknownKeyInTheFileIsAnErrorNamingIt(Vertx vertx) throws Exception {
    Path file = file(valid().put("SHUTDOWN_TIMOUT_MS", 5000));
    assertThatThrownBy(() -> Config.load(vertx, KEYS, new String[] {file.toString()}).await())
        .isInstanceOf(ConfigException.class)
        .hasMessage("unknown key SHUTDOWN_TIMOUT_MS in " + file);
  }

  @Test
  void aFileLineRepeatingADeclaredDefaultIsAnErrorNamingIt(Vertx vertx) throws Exception {
    Path file = file(valid().put("HTTP_PORT", 8080));
    assertThatThrownBy(() -> Config.load(vertx, KEYS, new String[] {file.toString()}).await())
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "HTTP_PORT=8080 in "
                + file
                + " is the default its key declares: remove the line, so the default has one home");
    // A default computed from the machine may be named: it differs from one machine to the next.
    int processors = Math.min(256, Runtime.getRuntime().availableProcessors());
    Path instances = file(valid().put("HTTP_INSTANCES", processors));
    assertThat(Config.load(vertx, KEYS, new String[] {instances.toString()}).await()).isNotNull();
  }

  @Test
  void aKeyWithADeclaredDefaultNeedsNoSource() {
    JsonObject json = new JsonObject().put("APP_PATH", "data/app.txt");
    LifecycleOptions options = LifecycleOptions.from(Config.from(json, KEYS));
    assertThat(options.host()).isEqualTo("0.0.0.0");
    assertThat(options.port()).isEqualTo(8080);
    assertThat(options.timeout()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void aNamedFileThatIsMissingIsAClearError(Vertx vertx) {
    Path missing = dir.resolve("nope.json");
    assertThatThrownBy(() -> Config.load(vertx, KEYS, new String[] {missing.toString()}).await())
        .isInstanceOf(ConfigException.class)
        .hasMessage("cannot read config file " + missing);
  }

  @Test
  void instancesDefaultToTheAvailableProcessors() {
    JsonObject json = valid();
    json.remove("HTTP_INSTANCES");
    LifecycleOptions options = LifecycleOptions.from(Config.from(json, KEYS));
    assertThat(options.instances())
        .isEqualTo(Math.min(256, Runtime.getRuntime().availableProcessors()));
  }

  @Test
  void badValuesNameTheKeyAndTheValue() {
    assertRejected(
        "HTTP_PORT", 70000, "invalid HTTP_PORT=70000: expected an integer from 0 to 65535");
    assertRejected("HTTP_PORT", "http", "invalid HTTP_PORT=http");
    assertRejected("HTTP_INSTANCES", 0, "invalid HTTP_INSTANCES=0: expected an integer from 1");
    assertRejected("HTTP_INSTANCES", 257, "invalid HTTP_INSTANCES=257");
    assertRejected("SHUTDOWN_TIMEOUT_MS", -5, "invalid SHUTDOWN_TIMEOUT_MS=-5");
    assertRejected("SHUTDOWN_DELAY_MS", "1.5", "invalid SHUTDOWN_DELAY_MS=1.5");
    assertRejected("SHUTDOWN_IDLE_MS", "", "SHUTDOWN_IDLE_MS is missing or empty");
    JsonObject noPath = valid();
    noPath.remove("APP_PATH");
    assertThatThrownBy(() -> Config.from(noPath, KEYS))
        .isInstanceOf(ConfigException.class)
        .hasMessage("APP_PATH is missing or empty");
  }

  @Test
  void aManagementListenerOnTheServicesHostAndPortIsRejected() {
    JsonObject same = valid().put("MANAGEMENT_PORT", 9090);
    assertThatThrownBy(() -> LifecycleOptions.from(Config.from(same, KEYS)))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("invalid MANAGEMENT_PORT=9090: it is HTTP_PORT's");
    // Port 0 is a port of the machine's choosing for each; another address's port is its own.
    LifecycleOptions.from(Config.from(valid().put("HTTP_PORT", 0).put("MANAGEMENT_PORT", 0), KEYS));
    assertThat(
            LifecycleOptions.from(
                    Config.from(same.copy().put("MANAGEMENT_HOST", "127.0.0.2"), KEYS))
                .managementPort())
        .isEqualTo(9090);
  }

  @Test
  void aPathThatIsNoPathNamesTheKey() {
    assertRejected("APP_PATH", "da\u0000ta", "invalid APP_PATH: not a path");
  }

  @Test
  void numbersMayBeStringsAsEnvironmentVariablesAre() {
    Config config = Config.from(valid().put("HTTP_PORT", "9090"), KEYS);
    assertThat(config.get(LifecycleOptions.HTTP_PORT)).isEqualTo(9090);
  }

  private static void assertRejected(String key, Object value, String message) {
    assertThatThrownBy(() -> Config.from(valid().put(key, value), KEYS))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(message);
  }
}
