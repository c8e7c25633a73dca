package com.example.service.lifecycle.internal;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import java.util.Map;
import java.util.TreeMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Logs what clients get wrong without letting them flood the log: the first event of a second is
 * written as one short line, the rest of that second are counted and summed up in one line when it
 * ends. Shared by every event loop.
 */
public final class ClientErrors {

  private static final Logger LOG = Logger.getLogger("http");
  private static final long WINDOW_MS = 1000;
  private static final int MAX_DETAIL = 120;

  private final Vertx vertx;

  /** Events counted but not written in the current window, by kind; guarded by {@code this}. */
  private final Map<String, Long> counted = new TreeMap<>();

  private boolean windowOpen;

  public ClientErrors(Vertx vertx) {
    this.vertx = vertx;
  }

  /**
   * Records one event.
   *
   * @param kind what happened, e.g. "400 bad request"; summed up by this
   * @param detail what the client sent, made printable and cut short here
   */
  void record(Level level, String kind, String detail) {
    synchronized (this) {
      if (windowOpen) {
        counted.merge(kind, 1L, Long::sum);
        return;
      }
      windowOpen = true;
    }
    LOG.log(level, kind + ": " + printable(detail));
    vertx.setTimer(WINDOW_MS, id -> closeWindow());
  }

  private void closeWindow() {
    String summary;
    synchronized (this) {
      if (counted.isEmpty()) {
        windowOpen = false;
        return;
      }
      long total = counted.values().stream().mapToLong(Long::longValue).sum();
      summary = total + " more in the last second: " + counted;
      counted.clear();
    }
    // The window stays open: a flood keeps writing one line per second.
    LOG.info(summary);
    vertx.setTimer(WINDOW_MS, id -> closeWindow());
  }

  /** Records a request refused for what its client sent: its method, target and client. */
  void refused(String kind, HttpServerRequest request) {
    record(
        Level.INFO,
        kind,
        request.method() + " " + request.uri() + " from " + request.remoteAddress());
  }

  /**
   * Client bytes in a log line: no control characters, nor the line and paragraph separators some
   * viewers break lines at (no forged lines), bounded length.
   */
  static String printable(String text) {
    if (text == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_DETAIL + 3));
    for (int i = 0; i < text.length() && out.length() < MAX_DETAIL; i++) {
      char c = text.charAt(i);
      out.append(c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029 ? '?' : c);
    }
    if (text.length() > MAX_DETAIL) {
      out.append("...");
    }
    return out.toString();
  }
}
