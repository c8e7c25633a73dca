package com.example.service.lifecycle.internal;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.netty.util.concurrent.Future;

/**
 * The write timeout of an HTTP/2 connection: response DATA waiting for the client, on its
 * flow-control window or on the socket, must make progress within the timeout, else {@code expired}
 * runs (the connection's GOAWAY and close). Progress is DATA bytes handed on to the socket, read
 * from the frame headers {@link Http2Timeouts} writes out. Checked every quarter of the timeout
 * while a stream is open; no timer runs while none is. Every method runs on the connection's loop.
 */
final class Http2WriteTimeout {

  private static final int DATA = 0x0;

  private final ChannelHandlerContext ctx;
  private final Http2ConnectionHandler codec;
  private final long writeNanos;
  private final Runnable expired;

  private final Http2Frames frames = new Http2Frames(0);
  private final Http2Frames.Events dataFrames =
      new Http2Frames.Events() {
        @Override
        public void payload(int type, int bytes) {
          if (type == DATA) {
            dataWritten += bytes;
          }
        }
      };

  /** Response DATA bytes handed on to the socket, and when they last grew (or nothing waited). */
  private long dataWritten;

  private long dataWrittenAtCheck;
  private long progressAt;
  private Future<?> timer;
  private boolean stopped;

  /**
   * @param ctx the context of the handler that installs it, whose loop and clock it uses
   * @param expired run once when data has waited without progress for {@code writeNanos}
   */
  Http2WriteTimeout(
      ChannelHandlerContext ctx, Http2ConnectionHandler codec, long writeNanos, Runnable expired) {
    this.ctx = ctx;
    this.codec = codec;
    this.writeNanos = writeNanos;
    this.expired = expired;
  }

  /** Bytes on their way to the socket: whole or partial frames, read for their DATA. */
  void written(ByteBuf bytes) {
    frames.walk(bytes, dataFrames);
  }

  /** A stream has opened: the checks run while any is open. */
  void streamActive() {
    if (stopped || timer != null) {
      return;
    }
    progressAt = now();
    timer = ctx.executor().schedule(this::check, writeNanos / 4, NANOSECONDS);
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
    if (!dataWaiting() || dataWritten != dataWrittenAtCheck) {
      progressAt = now;
    }
    dataWrittenAtCheck = dataWritten;
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
            // Vert.x keeps a stream's data itself while Netty says the stream's window is spent.
            held[0] = flow.hasFlowControlled(stream) || !flow.isWritable(stream);
            return !held[0];
          });
    } catch (Http2Exception visitorThrowsNone) {
      throw new IllegalStateException(visitorThrowsNone);
    }
    return held[0];
  }

  private long now() {
    return ctx.executor().ticker().nanoTime();
  }
}
