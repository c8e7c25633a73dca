package com.example.service.lifecycle;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.concurrent.Future;
import java.util.function.BiConsumer;

/**
 * The time limits of one HTTP/2 connection, in front of Vert.x's HTTP/2 handler, as the HTTP/1.1
 * guard keeps them for that protocol:
 *
 * <ul>
 *   <li>the client's preface and first SETTINGS, and every header block (a HEADERS frame and its
 *       CONTINUATIONs, from the first byte of the HEADERS frame to the frame that ends the block),
 *       must each arrive within the head timeout, else the connection gets a GOAWAY and is closed
 *       (what a 408 is to HTTP/1.1: a slowloris over HTTP/2 holds nothing);
 *   <li>a connection with no open stream for the idle timeout is asked to go away: {@link #onIdle}
 *       is told (the drain's two GOAWAYs, so a stream the client opens meanwhile is served).
 * </ul>
 *
 * <p>It reads frame headers only (9 bytes each, RFC 9113 §4.1), never a payload, and passes every
 * message on unchanged. Open streams are counted by Netty's {@link Http2Connection}. Time is the
 * event loop's ticker, so a test moves it. Every method runs on the connection's event loop.
 */
final class Http2Timeouts extends ChannelDuplexHandler {

  /** The name it has in the pipeline, just before Vert.x's HTTP/2 handler. */
  static final String NAME = "http2Timeouts";

  private static final int PREFACE_LENGTH = 24;
  private static final int FRAME_HEADER_LENGTH = 9;
  private static final int HEADERS = 0x1;
  private static final int SETTINGS = 0x4;
  private static final int CONTINUATION = 0x9;
  private static final int FLAG_ACK = 0x1;
  private static final int FLAG_END_HEADERS = 0x4;

  /** Where the client is in what it must send within the head timeout. */
  enum Head {
    /** The preface and the first SETTINGS frame are on their way. */
    HANDSHAKE,
    /** No header block in progress. */
    NONE,
    /** A header block has begun and its END_HEADERS frame has not arrived whole. */
    BLOCK,
    /** Timed out: the connection is closing. */
    EXPIRED
  }

  private final long headNanos;
  private final long idleNanos;
  private final BiConsumer<String, String> errors;

  private ChannelHandlerContext ctx;
  private Http2Connection connection;
  private Runnable onIdle;

  private Head head = Head.HANDSHAKE;
  private long headSince;
  private Future<?> headTimer;
  private Future<?> idleTimer;

  /** The idle timeout has passed: the connection is going away, and is never idle again. */
  private boolean idled;

  // The frame being read: its header's bytes so far, then how much of its payload is still to come.
  private int prefaceLeft = PREFACE_LENGTH;
  private final byte[] frameHeader = new byte[FRAME_HEADER_LENGTH];
  private int frameHeaderRead;
  private long frameStart;
  private int type;
  private int flags;
  private int payloadLeft;

  /**
   * @param headNanos how long the handshake, and each header block, may take
   * @param idleNanos how long the connection may have no open stream
   * @param errors told of each connection closed for a limit: a kind to count, and the client
   */
  Http2Timeouts(long headNanos, long idleNanos, BiConsumer<String, String> errors) {
    this.headNanos = headNanos;
    this.idleNanos = idleNanos;
    this.errors = errors;
  }

  /**
   * What to do when the connection has had no open stream for the idle timeout; without it, the
   * connection is closed as Netty closes one (a single GOAWAY, then the close).
   */
  void onIdle(Runnable goAway) {
    this.onIdle = goAway;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    Http2ConnectionHandler codec = ctx.pipeline().get(Http2ConnectionHandler.class);
    connection = codec.connection();
    connection.addListener(
        new Http2ConnectionAdapter() {
          @Override
          public void onStreamActive(Http2Stream stream) {
            cancelIdle();
          }

          @Override
          public void onStreamClosed(Http2Stream stream) {
            armIdleIfNoStream();
          }
        });
    headSince = now();
    headTimer = schedule(this::checkHead, headNanos);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cancel(headTimer);
    cancelIdle();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cancel(headTimer);
    cancelIdle();
    ctx.fireChannelInactive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf bytes && head != Head.EXPIRED) {
      scan(bytes);
    }
    ctx.fireChannelRead(msg);
  }

  /** Follows the frames in {@code bytes} without consuming them. */
  private void scan(ByteBuf bytes) {
    int at = bytes.readerIndex();
    int end = bytes.writerIndex();
    while (at < end) {
      if (prefaceLeft > 0) {
        int n = Math.min(prefaceLeft, end - at);
        prefaceLeft -= n;
        at += n;
      } else if (frameHeaderRead < FRAME_HEADER_LENGTH) {
        if (frameHeaderRead == 0) {
          frameStart = now();
        }
        frameHeader[frameHeaderRead++] = bytes.getByte(at++);
        if (frameHeaderRead == FRAME_HEADER_LENGTH) {
          frameHeaderDone();
        }
      } else {
        int n = Math.min(payloadLeft, end - at);
        payloadLeft -= n;
        at += n;
      }
      if (frameHeaderRead == FRAME_HEADER_LENGTH && payloadLeft == 0) {
        frameHeaderRead = 0;
        frameDone();
      }
    }
  }

  private void frameHeaderDone() {
    payloadLeft =
        (frameHeader[0] & 0xff) << 16 | (frameHeader[1] & 0xff) << 8 | (frameHeader[2] & 0xff);
    type = frameHeader[3] & 0xff;
    flags = frameHeader[4] & 0xff;
    if (type == HEADERS && head == Head.NONE) {
      // A header block counts from its first byte, as an HTTP/1.1 head does.
      head = Head.BLOCK;
      headSince = frameStart;
      cancelIdle();
      headTimer = schedule(this::checkHead, headNanos - (now() - headSince));
    }
  }

  private void frameDone() {
    boolean ended =
        switch (head) {
          case HANDSHAKE -> type == SETTINGS && (flags & FLAG_ACK) == 0;
          case BLOCK ->
              (type == HEADERS || type == CONTINUATION) && (flags & FLAG_END_HEADERS) != 0;
          case NONE, EXPIRED -> false;
        };
    if (ended) {
      head = Head.NONE;
      cancel(headTimer);
      headTimer = null;
      armIdleIfNoStream();
    }
  }

  private void checkHead() {
    headTimer = null;
    if (head != Head.HANDSHAKE && head != Head.BLOCK) {
      return;
    }
    long left = headNanos - (now() - headSince);
    if (left > 0) {
      headTimer = schedule(this::checkHead, left);
      return;
    }
    String what = head == Head.HANDSHAKE ? "preface and SETTINGS" : "request head";
    head = Head.EXPIRED;
    cancelIdle();
    errors.accept(
        "HTTP/2 " + what + " timeout, closed", String.valueOf(ctx.channel().remoteAddress()));
    // A GOAWAY naming the last stream that began, so the client knows what was not processed;
    // then the close, from here, past the codec's graceful wait for the streams it has.
    Http2ConnectionHandler codec = ctx.pipeline().get(Http2ConnectionHandler.class);
    ChannelHandlerContext codecCtx = ctx.pipeline().context(codec);
    codec
        .goAway(
            codecCtx,
            connection.remote().lastStreamCreated(),
            Http2Error.NO_ERROR.code(),
            ByteBufUtil.writeAscii(ctx.alloc(), what + " timeout"),
            codecCtx.newPromise())
        .addListener(written -> ctx.close());
    codecCtx.flush();
  }

  private void armIdleIfNoStream() {
    if (head == Head.NONE && !idled && idleTimer == null && connection.numActiveStreams() == 0) {
      idleTimer = schedule(this::idle, idleNanos);
    }
  }

  private void idle() {
    idleTimer = null;
    if (head != Head.NONE || connection.numActiveStreams() > 0) {
      return;
    }
    idled = true;
    if (onIdle != null) {
      onIdle.run();
    } else {
      ctx.channel().close();
    }
  }

  private void cancelIdle() {
    cancel(idleTimer);
    idleTimer = null;
  }

  private long now() {
    return ctx.executor().ticker().nanoTime();
  }

  private Future<?> schedule(Runnable task, long delayNanos) {
    return ctx.executor().schedule(task, Math.max(1, delayNanos), NANOSECONDS);
  }

  private static void cancel(Future<?> timer) {
    if (timer != null) {
      timer.cancel(false);
    }
  }
}
