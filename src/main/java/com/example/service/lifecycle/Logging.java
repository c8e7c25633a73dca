package com.example.service.lifecycle;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.logging.Handler;
import java.util.logging.LogManager;
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

  /** Flushes the root handlers, for a line that must be out before the process halts. */
  static void flush() {
    for (Handler handler : Logger.getLogger("").getHandlers()) {
      handler.flush();
    }
  }
}
