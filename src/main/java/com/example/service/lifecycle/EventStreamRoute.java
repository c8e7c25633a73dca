package com.example.service.lifecycle;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/**
 * A route that answers with a server-sent event stream which drains: at the start of the drain
 * (after the pre-stop delay) the client gets a last event of type {@code reconnect} with a {@code
 * retry:} hint, then the end of the response; the stream counts as drained. An {@code EventSource}
 * reconnects by itself after the hint, to an instance that still serves.
 *
 * <pre>{@code
 * router.get("/events").handler(EventStreamRoute.create(stream -> ...stream.send("tick")...));
 * }</pre>
 */
public interface EventStreamRoute extends Handler<RoutingContext> {

  /** The {@code retry:} hint of the last event: how long the client waits before reconnecting. */
  long RECONNECT_MS = 1000;

  /**
   * @param handler given each client's stream, once its head is sent
   */
  static EventStreamRoute create(Handler<EventStream> handler) {
    return ctx -> {
      HttpServerResponse response = ctx.response();
      response
          .setChunked(true)
          .putHeader("content-type", "text/event-stream")
          .putHeader("cache-control", "no-cache");
      if (ctx.request().method() == HttpMethod.HEAD) {
        // The head alone, and the end: a stream that never ends would hold the connection, and
        // the client's next request behind it, with no body to time out.
        response.end();
        return;
      }
      Stream stream = new Stream(response);
      // Not the response's own end/close handlers: the drain's end handler is installed there.
      ctx.addEndHandler(ar -> stream.end());
      // A comment line sends the head at once, so the client knows the stream is open.
      response.write(":\n\n");
      LongLived.onDrain(ctx, stream::goAway);
      handler.handle(stream);
    };
  }

  /** The one implementation; its state changes only on the request's event loop. */
  final class Stream implements EventStream {
    private final HttpServerResponse response;
    private Handler<Void> endHandler;
    private boolean ended;

    private Stream(HttpServerResponse response) {
      this.response = response;
    }

    @Override
    public Future<Void> send(String event, String data) {
      if (ended) {
        return Future.failedFuture("the event stream has ended");
      }
      StringBuilder frame = new StringBuilder();
      if (event != null) {
        frame.append("event: ").append(event).append('\n');
      }
      for (String line : data.split("\r\n|\r|\n", -1)) {
        frame.append("data: ").append(line).append('\n');
      }
      return response.write(frame.append('\n').toString());
    }

    @Override
    public boolean ended() {
      return ended;
    }

    @Override
    public EventStream endHandler(Handler<Void> handler) {
      this.endHandler = handler;
      return this;
    }

    private void goAway() {
      if (ended) {
        return;
      }
      response.end(
          "event: reconnect\nretry: "
              + RECONNECT_MS
              + "\ndata: {\"reason\":\"shutting down\"}\n\n");
    }

    private void end() {
      if (!ended) {
        ended = true;
        if (endHandler != null) {
          endHandler.handle(null);
        }
      }
    }
  }
}
