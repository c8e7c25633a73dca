package com.example.service;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** What one logger logs while this is open, for a test to read. */
public final class LogCapture extends Handler implements AutoCloseable {

  /** Held: JUL keeps loggers weakly, and a logger collected would take this handler with it. */
  private final Logger logger;

  private final List<LogRecord> records = new CopyOnWriteArrayList<>();

  private LogCapture(Logger logger) {
    this.logger = logger;
  }

  /** Starts keeping what the logger {@code name} logs. */
  public static LogCapture of(String name) {
    LogCapture capture = new LogCapture(Logger.getLogger(name));
    capture.logger.addHandler(capture);
    return capture;
  }

  /** What was logged so far, in order. */
  public List<LogRecord> records() {
    return records;
  }

  @Override
  public void publish(LogRecord record) {
    records.add(record);
  }

  @Override
  public void flush() {}

  /** Stops keeping records. */
  @Override
  public void close() {
    logger.removeHandler(this);
  }
}
