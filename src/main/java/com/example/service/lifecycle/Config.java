package com.example.service.lifecycle;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The service's configuration: the keys the lifecycle and the application declare, read once at
 * startup and validated.
 *
 * <p>Every key has the same name in the config file, as an environment variable and as a system
 * property ({@code -DHTTP_PORT=9090}). Later sources win: file, then environment, then system
 * properties. Only declared keys are read from the environment, and the file may hold no other key,
 * so a key is declared in exactly one place: its {@link Key}.
 *
 * <p>A default, too, lives in one place: a key either has one in its declaration ({@link
 * Key#orElse}) and the file sets it only to change it, or has none and must be set (in {@code
 * conf/config.json}, or the environment). A file line that repeats a declared default stops
 * startup, naming the key: two copies of a default drift apart.
 */
public final class Config {

  /** Names the config file when set as an environment variable or system property. */
  public static final String CONFIG_PATH = "CONFIG_PATH";

  /** The file read when neither {@link #CONFIG_PATH} nor an argument names one. */
  public static final Path DEFAULT_FILE = Path.of("conf", "config.json");

  private static final long MAX_MS = 3_600_000;

  /**
   * One configuration key: its name, how its text becomes a value, and its default if it has one.
   *
   * @param name the key, as written in the file and the environment
   * @param parse turns the text into a value, or throws {@link ConfigException} naming the key
   * @param fallback the value when no source sets the key; null if the key is required
   * @param computed whether {@code fallback} depends on the machine (so a file may name its value)
   */
  public record Key<T>(
      String name, Function<String, T> parse, Supplier<T> fallback, boolean computed) {

    Key(String name, Function<String, T> parse) {
      this(name, parse, null, false);
    }

    /**
     * The same key with a default: the value when no source sets it; null makes the key optional,
     * read as null when unset.
     */
    public Key<T> orElse(T value) {
      return new Key<>(name, parse, () -> value, false);
    }

    /**
     * The same key with a default computed at startup from the machine, such as its processor
     * count. A file may set a key like this to any value.
     */
    public Key<T> orElseGet(Supplier<T> value) {
      return new Key<>(name, parse, value, true);
    }
  }

  /** A non-blank string. */
  public static Key<String> text(String name) {
    return new Key<>(name, raw -> raw);
  }

  /** A file-system path. */
  public static Key<Path> path(String name) {
    return new Key<>(
        name,
        raw -> {
          try {
            return Path.of(raw);
          } catch (InvalidPathException e) {
            throw new ConfigException("invalid " + name + ": not a path (" + e.getReason() + ")");
          }
        });
  }

  /** An integer from {@code min} to {@code max}. */
  public static Key<Integer> integer(String name, int min, int max) {
    return new Key<>(name, raw -> (int) parseLong(name, raw, min, max));
  }

  /** {@code true} or {@code false}. */
  public static Key<Boolean> bool(String name) {
    return new Key<>(
        name,
        raw -> {
          if (raw.equalsIgnoreCase("true") || raw.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(raw);
          }
          throw new ConfigException("invalid " + name + "=" + raw + ": expected true or false");
        });
  }

  /** One of {@code values}, as written there. */
  public static Key<String> oneOf(String name, String... values) {
    List<String> allowed = List.of(values);
    return new Key<>(
        name,
        raw -> {
          if (allowed.contains(raw)) {
            return raw;
          }
          throw new ConfigException(
              "invalid " + name + "=" + raw + ": expected one of " + String.join(", ", allowed));
        });
  }

  /** Milliseconds from 0 to one hour, as a {@link Duration}. */
  public static Key<Duration> millis(String name) {
    return millis(name, 0);
  }

  /** Milliseconds from {@code min} to one hour, as a {@link Duration}. */
  public static Key<Duration> millis(String name, long min) {
    return new Key<>(name, raw -> Duration.ofMillis(parseLong(name, raw, min, MAX_MS)));
  }

  private final Map<String, Object> values;

  private Config(Map<String, Object> values) {
    this.values = values;
  }

  /** The value of a key given to {@link #load} or {@link #from}. */
  @SuppressWarnings("unchecked")
  public <T> T get(Key<T> key) {
    if (!values.containsKey(key.name())) {
      throw new IllegalArgumentException(key.name() + " was not declared when loading");
    }
    return (T) values.get(key.name());
  }

  /**
   * Reads the config file, then the environment, then system properties, and validates {@code
   * keys}.
   *
   * <p>The file is {@code args[0]} if given, else {@link #CONFIG_PATH}, else {@link #DEFAULT_FILE}.
   * A file named explicitly must exist; the default one may be absent when every required key comes
   * from the environment or system properties.
   *
   * @return the configuration, or a failed future with a {@link ConfigException} naming the key
   */
  public static Future<Config> load(Vertx vertx, List<Key<?>> keys, String[] args) {
    String named = args.length > 0 ? args[0] : System.getProperty(CONFIG_PATH);
    if (named == null) {
      named = System.getenv(CONFIG_PATH);
    }
    Path file = named == null ? DEFAULT_FILE : Path.of(named);
    if (named != null && !Files.isRegularFile(file)) {
      return Future.failedFuture(new ConfigException("cannot read config file " + file));
    }
    List<String> names = new ArrayList<>();
    keys.forEach(k -> names.add(k.name()));
    // Declared by hand: vertx-config's default stores let the file override the environment.
    ConfigRetrieverOptions options =
        new ConfigRetrieverOptions()
            .setIncludeDefaultStores(false)
            .addStore(
                new ConfigStoreOptions()
                    .setType("file")
                    .setFormat("json")
                    .setOptional(named == null)
                    .setConfig(new JsonObject().put("path", file.toString())))
            .addStore(
                new ConfigStoreOptions()
                    .setType("env")
                    .setConfig(
                        new JsonObject().put("raw-data", true).put("keys", new JsonArray(names))))
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
        .compose(
            merged -> {
              try {
                checkFileKeys(vertx, file, keys);
                return Future.succeededFuture(from(merged, keys));
              } catch (ConfigException e) {
                return Future.failedFuture(e);
              }
            })
        .eventually(retriever::close);
  }

  /**
   * As {@link #load(Vertx, List, String[])}, with a Vert.x instance of its own, closed again: for
   * startup, where what the configuration says decides how the service's Vert.x is made (metrics).
   * Blocks until the configuration is read; the instance closes in the background.
   *
   * @throws ConfigException naming the first missing or invalid key
   */
  public static Config load(List<Key<?>> keys, String[] args) {
    Vertx vertx =
        Vertx.vertx(
            new VertxOptions()
                .setFileSystemOptions(
                    new FileSystemOptions()
                        .setClassPathResolvingEnabled(false)
                        .setFileCachingEnabled(false)));
    try {
      return load(vertx, keys, args).await();
    } finally {
      // Not awaited: nothing of it is used again, and its threads end while the service starts.
      vertx.close();
    }
  }

  /**
   * Typos in the file must not pass silently (the environment holds far more than our keys), nor
   * may the file repeat a default its key declares.
   */
  private static void checkFileKeys(Vertx vertx, Path file, List<Key<?>> keys) {
    if (!Files.isRegularFile(file)) {
      return;
    }
    Map<String, Key<?>> declared = new HashMap<>();
    keys.forEach(k -> declared.put(k.name(), k));
    JsonObject json = new JsonObject(vertx.fileSystem().readFileBlocking(file.toString()));
    for (String name : json.fieldNames()) {
      Key<?> key = declared.get(name);
      if (key == null) {
        throw new ConfigException("unknown key " + name + " in " + file);
      }
      Object raw = json.getValue(name);
      if (key.fallback() != null
          && !key.computed()
          && raw != null
          && key.parse().apply(raw.toString().trim()).equals(key.fallback().get())) {
        throw new ConfigException(
            name
                + "="
                + raw
                + " in "
                + file
                + " is the default its key declares: remove the line, so the default has one home");
      }
    }
  }

  /**
   * Validates {@code keys} in a merged configuration.
   *
   * @throws ConfigException naming the first missing or invalid key
   */
  public static Config from(JsonObject json, List<Key<?>> keys) {
    Map<String, Object> values = new HashMap<>();
    for (Key<?> key : keys) {
      Object raw = json.getValue(key.name());
      if (raw == null && key.fallback() != null) {
        values.put(key.name(), key.fallback().get());
        continue;
      }
      if (raw == null || raw.toString().isBlank()) {
        throw new ConfigException(key.name() + " is missing or empty");
      }
      values.put(key.name(), key.parse().apply(raw.toString().trim()));
    }
    return new Config(values);
  }

  private static long parseLong(String name, String raw, long min, long max) {
    long parsed;
    try {
      parsed = Long.parseLong(raw);
    } catch (NumberFormatException e) {
      parsed = Long.MIN_VALUE;
    }
    if (parsed < min || parsed > max) {
      throw new ConfigException(
          "invalid " + name + "=" + raw + ": expected an integer from " + min + " to " + max);
    }
    return parsed;
  }

  /** A configuration value that stops startup; its message names the key. */
  public static final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
      super(message);
    }
  }
}
