package com.example.service.lifecycle.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Stream;
import java.util.function.BiConsumer;

/**
 * When an HTTP/2 request is over: when its stream closes. That is when a response's last bytes have
 * left the process, which is not when the route ended it: Vert.x ends a response at once, while
 * Netty holds its DATA until the client's flow-control window lets it go, and a client that never
 * opens the window never gets it. Netty closes a stream once its last frame is written; a stream
 * closed by a reset of ours, or because the connection went, never delivered what was held. The
 * connection's {@link Http2Timeouts} tells it of each stream that closes.
 *
 * @param <T> what the caller tracks per stream
 */
final class Http2Streams<T> {

  private final Http2Connection connection;
  private final Channel channel;
  private final Http2Connection.PropertyKey key;
  private final BiConsumer<T, Boolean> closed;

  /**
   * @param codec the context of the connection's HTTP/2 handler (Netty's {@code
   *     Http2ConnectionHandler})
   * @param closed told, once per {@link #track tracked} stream, that it has closed, and whether
   *     what was written on it left ({@code true}) or never will ({@code false})
   */
  Http2Streams(ChannelHandlerContext codec, BiConsumer<T, Boolean> closed) {
    this.connection = ((Http2ConnectionHandler) codec.handler()).connection();
    this.channel = codec.channel();
    this.key = connection.newKey();
    this.closed = closed;
  }

  /**
   * Hands {@code tracked} to the callback once the stream closes.
   *
   * @return false if the stream is closed already
   */
  boolean track(int streamId, T tracked) {
    Http2Stream stream = connection.stream(streamId);
    if (stream == null || stream.state() == Http2Stream.State.CLOSED) {
      return false;
    }
    stream.setProperty(key, tracked);
    return true;
  }

  /** A stream of the connection has closed. */
  void streamClosed(Http2Stream stream) {
    T tracked = stream.removeProperty(key);
    if (tracked != null) {
      // Closed with the channel still up and no reset of ours: its last frame was written.
      closed.accept(tracked, channel.isActive() && !stream.isResetSent());
    }
  }
}
