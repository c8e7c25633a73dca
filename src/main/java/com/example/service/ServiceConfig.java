package com.example.service;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;

/**
 * The service's configuration, read once at startup and validated.
 *
 * <p>Every key has the same name in {@code conf/config.json}, as an environment variable and as a
 * system property ({@code -DHTTP_PORT=9090}). Later sources win: file, then environment, then
 * system properties.
 *
 * @param httpHost address the HTTP server binds to
 * @param httpPort port the HTTP server binds to; 0 picks a free port
 * @param shutdownDelayMs how long to keep serving after a shutdown signal, with readiness failing
 * @param shutdownTimeoutMs deadline for draining requests, counted from the end of the delay
 * @param shutdownIdleMs how long a keep-alive connection must be quiet before shutdown closes it
 * @param journalPath file the example journal appends completed jobs to
 */
public record ServiceConfig(
    String httpHost,
    int httpPort,
    long shutdownDelayMs,
    long shutdownTimeoutMs,
    long shutdownIdleMs,
    Path journalPath) {

  /** The configuration keys, in the order of the README's table. */
  public static final List<String> KEYS =
      List.of(
          "HTTP_HOST",
          "HTTP_PORT",
          "SHUTDOWN_DELAY_MS",
          "SHUTDOWN_TIMEOUT_MS",
          "SHUTDOWN_IDLE_MS",
          "JOURNAL_PATH");

  private static final long MAX_MS = 3_600_000;

  /**
   * Reads {@code file}, then the environment, then system properties, and validates the result.
   *
   * @return the configuration, or a failed future with a {@link ConfigException} naming the key
   */
  public static Future<ServiceConfig> load(Vertx vertx, Path file) {
    // Declared by hand: vertx-config's default stores let the file override the environment.
    ConfigRetrieverOptions options =
        new ConfigRetrieverOptions()
            .setIncludeDefaultStores(false)
            .addStore(
                new ConfigStoreOptions()
                    .setType("file")
                    .setFormat("json")
                    .setConfig(new JsonObject().put("path", file.toString())))
            .addStore(
                new ConfigStoreOptions()
                    .setType("env")
                    .setConfig(
                        new JsonObject().put("raw-data", true).put("keys", new JsonArray(KEYS))))
            .addStore(
                new ConfigStoreOptions()
                    .setType("sys")
                    .setConfig(new JsonObject().put("raw-data", true)));
    ConfigRetriever retriever = ConfigRetriever.create(vertx, options);
    return retriever
        .getConfig()
        .recover(
            err ->
                Future.failedFuture(
                    new ConfigException("cannot read " + file + ": " + err.getMessage())))
        .map(ServiceConfig::from)
        .eventually(retriever::close);
  }

  /**
   * Validates a merged configuration.
   *
   * @throws ConfigException naming the first missing or invalid key
   */
  public static ServiceConfig from(JsonObject json) {
    String host = text(json, "HTTP_HOST");
    int port = (int) number(json, "HTTP_PORT", 0, 65_535);
    long delay = number(json, "SHUTDOWN_DELAY_MS", 0, MAX_MS);
    long timeout = number(json, "SHUTDOWN_TIMEOUT_MS", 0, MAX_MS);
    long idle = number(json, "SHUTDOWN_IDLE_MS", 0, MAX_MS);
    Path journal = Path.of(text(json, "JOURNAL_PATH"));
    return new ServiceConfig(host, port, delay, timeout, idle, journal);
  }

  private static String text(JsonObject json, String key) {
    Object value = json.getValue(key);
    if (value == null || value.toString().isBlank()) {
      throw new ConfigException(key + " is missing or empty");
    }
    return value.toString().trim();
  }

  private static long number(JsonObject json, String key, long min, long max) {
    String value = text(json, key);
    long parsed;
    try {
      parsed = Long.parseLong(value);
    } catch (NumberFormatException e) {
      parsed = Long.MIN_VALUE;
    }
    if (parsed < min || parsed > max) {
      throw new ConfigException(
          "invalid " + key + "=" + value + ": expected an integer from " + min + " to " + max);
    }
    return parsed;
  }

  /** A configuration value that stops startup; its message names the key. */
  public static final class ConfigException extends RuntimeException {
    ConfigException(String message) {
      super(message);
    }
  }
}
