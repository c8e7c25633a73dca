package com.example.service.lifecycle.internal;

import com.example.service.lifecycle.Logging;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * One line per record: {@code 2026-01-31T12:00:00.123Z INFO [logger] message}.
 *
 * <p>Plain string building rather than {@link java.util.logging.SimpleFormatter}'s {@code
 * String.format}: the shutdown's log lines run on code that has not been compiled yet, where a
 * format pattern costs milliseconds between the last response and the exit.
 */
public final class LineFormatter extends Formatter {

  /**
   * UTC with milliseconds, always three digits: {@link Instant#toString} drops them on a whole
   * second, and a column of log lines would then change width.
   */
  private static final DateTimeFormatter TIMESTAMP =
      new DateTimeFormatterBuilder().appendInstant(3).toFormatter();

  /** {@code record}'s time as both log formats write it: {@code 2026-01-31T12:00:00.000Z}. */
  static String timestamp(LogRecord record) {
    return TIMESTAMP.format(record.getInstant());
  }

  /**
   * The record's message: as written when it carries {@link Logging#log}'s fields, which are no
   * format's arguments (a client's {@code /{0}} in a logged path stays as sent); else as JUL
   * formats it.
   */
  static String message(Formatter formatter, LogRecord record) {
    return Logging.fields(record) != null ? record.getMessage() : formatter.formatMessage(record);
  }

  @Override
  public String format(LogRecord record) {
    StringBuilder line = new StringBuilder(128);
    line.append(timestamp(record)).append(' ');
    String level = record.getLevel().getName();
    line.append(level);
    for (int i = level.length(); i < 8; i++) {
      line.append(' ');
    }
    line.append('[').append(record.getLoggerName()).append("] ").append(message(this, record));
    if (record.getThrown() != null) {
      StringWriter trace = new StringWriter();
      record.getThrown().printStackTrace(new PrintWriter(trace));
      line.append(System.lineSeparator()).append(trace.toString().stripTrailing());
    }
    return line.append(System.lineSeparator()).toString();
  }
}
