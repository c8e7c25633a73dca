package com.example.service.lifecycle.internal;

import com.example.service.lifecycle.Logging;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * One JSON object per line, for a log shipper: {@code timestamp}, {@code level}, {@code logger},
 * {@code message}, the record's fields (see {@link Logging#log}) and {@code stack_trace} when a
 * throwable is attached.
 */
public final class JsonLineFormatter extends Formatter {

  @Override
  public String format(LogRecord record) {
    JsonObject line =
        new JsonObject()
            .put("timestamp", LineFormatter.timestamp(record))
            .put("level", record.getLevel().getName())
            .put("logger", record.getLoggerName())
            .put("message", LineFormatter.message(this, record));
    Map<String, Object> fields = Logging.fields(record);
    if (fields != null) {
      fields.forEach(line::put);
    }
    if (record.getThrown() != null) {
      StringWriter trace = new StringWriter();
      record.getThrown().printStackTrace(new PrintWriter(trace));
      line.put("stack_trace", trace.toString());
    }
    return line.encode() + System.lineSeparator();
  }
}
