package com.example.service.lifecycle;

import io.vertx.core.Future;
import io.vertx.core.Handler;

/**
 * One client's server-sent event stream ({@code text/event-stream}), made by {@link
 * EventStreamRoute}.
 */
public interface EventStream {

  /** Sends an event of the default type ({@code message}). */
  default Future<Void> send(String data) {
    return send(null, data);
  }

  /**
   * Sends one event.
   *
   * @param event its type, or null for {@code message}
   * @param data its data; each line becomes a {@code data:} line
   */
  Future<Void> send(String event, String data);

  /** Whether the stream has ended: the client left, or the drain ended it. */
  boolean ended();

  /** Called once when the stream ends, however it ends: stop producing events there. */
  EventStream endHandler(Handler<Void> handler);
}
