package com.example.service.lifecycle.internal;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.netty.util.concurrent.Future;

/**
 * The write timeout of an HTTP/2 connection: response DATA waiting for the client, on its
 * flow-control window or on the socket, must make progress within the timeout, else {@code expired}
 * runs (the connection's GOAWAY and close). Checked every quarter of the timeout while a stream is
 * open; no timer runs while none is. Every method runs on the connection's loop.
 *
 * <p>Progress is DATA handed on to the channel, read from the connection's flow-control window at
 * each check, not from the frames going out: every DATA byte takes from that window, and only the
 * client's WINDOW_UPDATEs for the connection give to it, so the DATA sent since the last check is
 * what the client gave minus what the window gained. An update the stream's own window then holds
 * back sends nothing, and counts nothing. Netty hands DATA on only while the channel is writable,
 * so a client that stops reading its socket stops it too. Watching no outbound frame keeps the
 * timeouts off the write path: 1–3% of an HTTP/2 request's CPU (docs/performance.md). The updates
 * are told by the timeouts' walk of the client's frames, not by a decorator of the codec's frame
 * listener: one more class behind that listener's calls kept the JIT from inlining Vert.x's
 * handling of every frame (docs/performance.md).
 */
final class Http2WriteTimeout {

  private final ChannelHandlerContext ctx;
  private final Http2ConnectionHandler codec;
  private final long writeNanos;
  private final Runnable expired;

  /** The WINDOW_UPDATE increments read for the connection as a whole (stream 0). */
  private long connectionWindowGiven;

  private long dataSentAtCheck;
  private long progressAt;
  private Future<?> timer;
  private boolean stopped;

  /**
   * @param ctx the context of {@code codec}, the connection's HTTP/2 handler, whose loop and clock
   *     it uses
   * @param expired run once when data has waited without progress for {@code writeNanos}
   */
  Http2WriteTimeout(
      ChannelHandlerContext ctx, Http2ConnectionHandler codec, long writeNanos, Runnable expired) {
    this.ctx = ctx;
    this.codec = codec;
    this.writeNanos = writeNanos;
    this.expired = expired;
  }

  /** A stream has opened: the checks run while any is open. */
  void streamActive() {
    if (stopped || timer != null) {
      return;
    }
    dataSentAtCheck = dataSent();
    progressAt = now();
    timer = ctx.executor().schedule(this::check, writeNanos / 4, NANOSECONDS);
  }

  /**
   * The client's WINDOW_UPDATE for the connection as a whole (stream 0) has arrived, and its codec
   * reads it next, in the same read.
   */
  void connectionWindowUpdated(int increment) {
    connectionWindowGiven += increment;
  }

  /** The connection is closed, or closing: the timer is cancelled and never set again. */
  void stop() {
    stopped = true;
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void check() {
    timer = null;
    if (codec.connection().numActiveStreams() == 0) {
      return; // set again when a stream opens
    }
    long now = now();
    long dataSent = dataSent();
    if (!dataWaiting() || dataSent != dataSentAtCheck) {
      progressAt = now;
    }
    dataSentAtCheck = dataSent;
    if (now - progressAt >= writeNanos) {
      expired.run();
      return;
    }
    timer = ctx.executor().schedule(this::check, writeNanos / 4, NANOSECONDS);
  }

  /** Whether response data waits on the client: on a flow-control window, or on the socket. */
  private boolean dataWaiting() {
    if (!ctx.channel().isWritable()) {
      return true;
    }
    Http2Connection connection = codec.connection();
    Http2RemoteFlowController flow = codec.encoder().flowController();
    boolean[] held = {false};
    try {
      connection.forEachActiveStream(
          stream -> {
            // Vert.x keeps a response's data itself while Netty says the stream's window is spent;
            // a stream with no response begun waits on nothing of ours (a body still coming in).
            held[0] =
                flow.hasFlowControlled(stream)
                    || (stream.isHeadersSent() && !flow.isWritable(stream));
            return !held[0];
          });
    } catch (Http2Exception visitorThrowsNone) {
      throw new IllegalStateException(visitorThrowsNone);
    }
    return held[0];
  }

  /**
   * DATA bytes handed on to the channel, plus a constant: what the client gave the connection's
   * window, less the window. The checks read it between two reads, when the two agree.
   */
  private long dataSent() {
    Http2Connection connection = codec.connection();
    return connectionWindowGiven
        - codec.encoder().flowController().windowSize(connection.connectionStream());
  }

  private long now() {
    return ctx.executor().ticker().nanoTime();
  }
}
