package com.example.service.lifecycle.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Stream;
import io.vertx.core.http.HttpServerRequest;
import java.util.function.BiConsumer;

/**
 * An HTTP/2 connection's requests, each recorded on its stream, and when each is over: when its
 * stream closes. That is when a response's last bytes have left the process, which is not when the
 * route ended it: Vert.x ends a response at once, while Netty holds its DATA until the client's
 * flow-control window lets it go, and a client that never opens the window never gets it. Netty
 * closes a stream once its last frame is written; a stream closed by a reset of ours before that,
 * or because the connection went, never delivered what was held. The connection's {@link
 * Http2Timeouts} tells it of each stream that closes.
 *
 * <p>While the loop serves, a stream's record is its request: most streams end before any drain,
 * and need no more. A drain, or a long-lived route, {@link #promote promotes} the open ones to
 * {@link Exchange}s; streams opened after a drain began are tracked as exchanges from the start.
 */
final class Http2Streams {

  private final Http2Connection connection;
  private final Channel channel;
  private final Http2Connection.PropertyKey key;
  private final TrackedConnection conn;
  private final BiConsumer<Exchange, Boolean> closed;
  private final Runnable served;

  /**
   * @param codec the context of the connection's HTTP/2 handler (Netty's {@code
   *     Http2ConnectionHandler})
   * @param closed told, once per exchange's stream, that it has closed, and whether what was
   *     written on it left ({@code true}) or never will ({@code false})
   * @param served told of each stream that closed with its request as its record
   */
  Http2Streams(
      ChannelHandlerContext codec,
      TrackedConnection conn,
      BiConsumer<Exchange, Boolean> closed,
      Runnable served) {
    this.connection = ((Http2ConnectionHandler) codec.handler()).connection();
    this.channel = codec.channel();
    this.key = connection.newKey();
    this.conn = conn;
    this.closed = closed;
    this.served = served;
  }

  /**
   * Records a request that arrived while the loop serves on its stream, until the stream closes.
   *
   * @return false if the stream is closed already
   */
  boolean track(HttpServerRequest request) {
    return record(request.streamId(), request);
  }

  /** As {@link #track(HttpServerRequest)}, for an exchange. */
  boolean track(Exchange exchange) {
    return record(exchange.streamId, exchange);
  }

  private boolean record(int streamId, Object record) {
    Http2Stream stream = connection.stream(streamId);
    if (stream == null || stream.state() == Http2Stream.State.CLOSED) {
      return false;
    }
    stream.setProperty(key, record);
    return true;
  }

  /** Each open stream recorded by its request gets its exchange, in the connection's list. */
  void promote() {
    try {
      connection.forEachActiveStream(
          stream -> {
            if (stream.getProperty(key) instanceof HttpServerRequest request) {
              Exchange exchange = new Exchange(request, conn);
              exchange.responseWritten = stream.state() == Http2Stream.State.HALF_CLOSED_LOCAL;
              conn.exchanges.add(exchange);
              stream.setProperty(key, exchange);
            }
            return true;
          });
    } catch (Http2Exception e) {
      throw new IllegalStateException(e); // only a visitor's own: this one throws none
    }
  }

  /** A stream's response has been written whole while its client still sends its request. */
  void responseWritten(Http2Stream stream) {
    if (stream.getProperty(key) instanceof Exchange exchange) {
      exchange.responseWritten = true;
    }
  }

  /** A stream of the connection has closed. */
  void streamClosed(Http2Stream stream) {
    Object record = stream.removeProperty(key);
    if (record instanceof Exchange exchange) {
      // Its last frame written (to a channel then up), before any reset of ours or the close.
      closed.accept(
          exchange, exchange.responseWritten || (channel.isActive() && !stream.isResetSent()));
    } else if (record != null) {
      served.run();
    }
  }
}
