package com.example.service.lifecycle;

import com.example.service.lifecycle.internal.JsonLineFormatter;
import com.example.service.lifecycle.internal.LineFormatter;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** java.util.logging set up for a service: one line per record, UTC timestamps. */
public final class Logging {

  private Logging() {}

  /**
   * Loads {@code logging.properties} from the classpath, unless the user named a file with {@code
   * -Djava.util.logging.config.file}.
   *
   * <p>The graceful shutdown runs before {@code System.exit}, so JUL's own shutdown hook, which
   * closes every handler, runs only after the last line is written.
   */
  public static void configure() {
    if (System.getProperty("java.util.logging.config.file") != null) {
      return;
    }
    try (InputStream in = Logging.class.getResourceAsStream("/logging.properties")) {
      if (in != null) {
        LogManager.getLogManager().readConfiguration(in);
      }
      // Set here, not in the properties file, which would have to name this package.
      for (Handler handler : Logger.getLogger("").getHandlers()) {
        handler.setFormatter(new LineFormatter());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Writes every line as {@code text} (one line a person reads, the default) or {@code json} (one
   * object per line, see {@link JsonLineFormatter}).
   */
  public static void useFormat(String format) {
    Formatter formatter = "json".equals(format) ? new JsonLineFormatter() : new LineFormatter();
    for (Handler handler : Logger.getLogger("").getHandlers()) {
      handler.setFormatter(formatter);
    }
  }

  /**
   * Logs {@code message} with {@code fields}: the JSON format writes them as fields of their own,
   * so a log pipeline can read the numbers without parsing the message; the text format writes the
   * message only.
   */
  public static void log(Logger logger, Level level, String message, Map<String, Object> fields) {
    if (!logger.isLoggable(level)) {
      return;
    }
    LogRecord record = new LogRecord(level, message);
    record.setLoggerName(logger.getName());
    record.setParameters(new Object[] {new Fields(fields)});
    logger.log(record);
  }

  /** The fields {@link #log} attached to {@code record}, or null. */
  public static Map<String, Object> fields(LogRecord record) {
    Object[] parameters = record.getParameters();
    return parameters != null && parameters.length == 1 && parameters[0] instanceof Fields f
        ? f.values()
        : null;
  }

  /** A record's structured fields, in a type of its own so no other parameter is taken for one. */
  private record Fields(Map<String, Object> values) {}

  /** Flushes the root handlers, for a line that must be out before the process halts. */
  static void flush() {
    for (Handler handler : Logger.getLogger("").getHandlers()) {
      handler.flush();
    }
  }
}
