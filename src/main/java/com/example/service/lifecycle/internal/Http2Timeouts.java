package com.example.service.lifecycle.internal;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The time limits of one HTTP/2 connection, kept on Vert.x's HTTP/2 handler as the HTTP/1.1 guard
 * keeps them for that protocol:
 *
 * <ul>
 *   <li>the client's preface and first SETTINGS, and every header block (a HEADERS frame and its
 *       CONTINUATIONs, from the first byte of the HEADERS frame to the frame that ends the block),
 *       must each arrive within the head timeout, and so must every frame's 9-byte header, else the
 *       connection gets a GOAWAY and is closed (what a 408 is to HTTP/1.1: a slowloris over HTTP/2
 *       holds nothing);
 *   <li>a request body must be complete within the body timeout ({@link Http2BodyTimeout}, which
 *       this installs);
 *   <li>response DATA waiting for the client (on its flow-control window, or on the socket) must
 *       make progress within the write timeout ({@link Http2WriteTimeout}, which this installs),
 *       else the connection gets a GOAWAY and is closed; its streams are then lost, and the drain
 *       counts them aborted;
 *   <li>a connection with no open stream for the idle timeout ({@link Http2IdleTimeout}, which this
 *       installs) is asked to go away: {@link #onIdle} is told (the drain's two GOAWAYs, so a
 *       stream the client opens meanwhile is served).
 * </ul>
 *
 * <p>It reads the client's frame headers ({@link Http2Frames}), no payload but a WINDOW_UPDATE's
 * (for the write timeout), as the handler's cumulator: the handler (a Netty {@code
 * ByteToMessageDecoder}) gives each read's bytes to it before it decodes them, and it merges them
 * as Netty's default does. No handler of its own is in the pipeline, so a read passes the same
 * handlers as in bare Vert.x, and the JIT compiles Netty's call to them as there (with one more
 * class at that call, it did not inline it). It sees nothing going out. Open streams and the data
 * flow control holds are Netty's ({@link Http2Connection}). Time is the event loop's ticker, so a
 * test moves it. Every method runs on the connection's loop.
 */
final class Http2Timeouts implements ByteToMessageDecoder.Cumulator {

  private static final AttributeKey<Http2Timeouts> KEY =
      AttributeKey.valueOf(Http2Timeouts.class, "timeouts");

  private static final int HEADERS = 0x1;
  private static final int SETTINGS = 0x4;
  private static final int CONTINUATION = 0x9;
  private static final int FLAG_ACK = 0x1;
  private static final int FLAG_END_HEADERS = 0x4;

  /** Where the client is in what it must send within the head timeout. */
  enum Head {
    /** The preface and the first SETTINGS frame are on their way. */
    HANDSHAKE,
    /** No header block in progress, and no frame header half-received. */
    NONE,
    /**
     * A frame's 9-byte header has begun and is not whole: a client trickling it holds the
     * connection as one trickling a header block does.
     */
    FRAME,
    /** A header block has begun and its END_HEADERS frame has not arrived whole. */
    BLOCK,
    /** A limit expired: the connection is closing. */
    EXPIRED
  }

  private final long headNanos;
  private final long bodyNanos;
  private Http2BodyTimeout bodies;
  private final long writeNanos;
  private Http2WriteTimeout writes;
  private final long idleNanos;
  private Http2IdleTimeout idle;
  private final BiConsumer<String, String> errors;

  private ChannelHandlerContext ctx;
  private Http2ConnectionHandler codec;
  private Http2Connection connection;
  private Runnable onIdle;
  private Consumer<Http2Stream> onStreamClosed;
  private Consumer<Http2Stream> onResponseWritten;

  private Head head = Head.HANDSHAKE;
  private long headSince;
  private Future<?> headTimer;

  /** The channel is closed: no timer is set again. */
  private boolean closed;

  // Set by one read's walk and acted on after it, so that a read of whole frames reads no clock: a
  // frame or header block began in it; the handshake or a header block ended in it.
  private boolean headBegan;
  private boolean headEnded;

  private final Http2Frames inbound = new Http2Frames();

  private final Http2Frames.Events clientFrames =
      new Http2Frames.Events() {
        @Override
        public void frameBegan() {
          if (head == Head.NONE) {
            head = Head.FRAME;
            headBegan = true;
          }
        }

        @Override
        public void header(int type, int flags) {
          if (head == Head.FRAME) {
            head = type == HEADERS ? Head.BLOCK : Head.NONE;
          }
        }

        @Override
        public void frameEnded(int type, int flags) {
          boolean ended =
              switch (head) {
                case HANDSHAKE -> type == SETTINGS && (flags & FLAG_ACK) == 0;
                case BLOCK ->
                    (type == HEADERS || type == CONTINUATION) && (flags & FLAG_END_HEADERS) != 0;
                case NONE, FRAME, EXPIRED -> false;
              };
          if (ended) {
            if (head == Head.HANDSHAKE) {
              idle.handshakeEnded();
            }
            head = Head.NONE;
            headEnded = true;
          }
        }

        @Override
        public void windowUpdate(int streamId, int increment) {
          if (streamId == 0) {
            writes.connectionWindowUpdated(increment);
          }
        }
      };

  /**
   * @param headNanos how long the handshake, and each header block, may take
   * @param bodyNanos how long a request body may take, from its stream's start
   * @param writeNanos how long response data may wait for the client without progress
   * @param idleNanos how long the connection may have no open stream
   * @param errors told of each connection closed for a limit: a kind to count, and the client
   */
  Http2Timeouts(
      long headNanos,
      long bodyNanos,
      long writeNanos,
      long idleNanos,
      BiConsumer<String, String> errors) {
    this.headNanos = headNanos;
    this.bodyNanos = bodyNanos;
    this.writeNanos = writeNanos;
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

  /**
   * Also told of each stream that closes, after the timeouts. What else follows the connection's
   * streams hears of them from here: Netty calls every listener of a connection on each event of
   * every stream, and each listener costs about 1% of an HTTP/2 request's CPU; this one takes the
   * place of Vert.x's, and passes each event on to it first.
   */
  void onStreamClosed(Consumer<Http2Stream> closed) {
    this.onStreamClosed = closed;
  }

  /**
   * Also told of each stream whose response's last frame is written while its client still sends
   * (its local side closes first), from the same listener.
   */
  void onResponseWritten(Consumer<Http2Stream> written) {
    this.onResponseWritten = written;
  }

  /**
   * Holds a connection to the limits from now, on {@code handler}, the context of its HTTP/2
   * handler (Netty's {@code Http2ConnectionHandler}): call it before the handler has read a byte.
   */
  void install(ChannelHandlerContext handler) {
    ctx = handler;
    codec = (Http2ConnectionHandler) handler.handler();
    connection = codec.connection();
    bodies = new Http2BodyTimeout(ctx, codec, bodyNanos, errors);
    writes = new Http2WriteTimeout(ctx, codec, writeNanos, () -> expire("write timeout"));
    idle =
        new Http2IdleTimeout(
            ctx, connection, idleNanos, () -> head != Head.NONE && head != Head.FRAME, this::idle);
    // The one listener, in Vert.x's place: see onStreamClosed.
    Internals.shareStreamListener(codec, StreamEvents::new);
    // The codec hands each read to its cumulator before it decodes it: the walk happens there, and
    // not in a handler of its own in front of the codec, so the read path is bare Vert.x's.
    codec.setCumulator(this);
    ctx.channel().attr(KEY).set(this);
    // Before the codec's channelInactive closes its streams, whose close would otherwise set the
    // idle timer again.
    ctx.channel().closeFuture().addListener(future -> stop());
    headSince = now();
    armHead();
  }

  /** The limits {@link #install} holds {@code channel} to, or null. */
  static Http2Timeouts of(Channel channel) {
    return channel.attr(KEY).get();
  }

  /** The connection's stream events: Vert.x's listener first, then the timeouts and the rest. */
  private final class StreamEvents implements Http2Connection.Listener {
    private final Http2Connection.Listener vertx;

    StreamEvents(Http2Connection.Listener vertx) {
      this.vertx = vertx;
    }

    @Override
    public void onStreamAdded(Http2Stream stream) {
      vertx.onStreamAdded(stream);
    }

    @Override
    public void onStreamActive(Http2Stream stream) {
      vertx.onStreamActive(stream);
      bodies.streamActive(stream);
      writes.streamActive();
    }

    @Override
    public void onStreamHalfClosed(Http2Stream stream) {
      vertx.onStreamHalfClosed(stream);
      bodies.streamHalfClosed(stream);
      if (onResponseWritten != null && stream.state() == Http2Stream.State.HALF_CLOSED_LOCAL) {
        onResponseWritten.accept(stream);
      }
    }

    @Override
    public void onStreamClosed(Http2Stream stream) {
      vertx.onStreamClosed(stream);
      idle.streamClosed();
      bodies.streamClosed(stream);
      if (onStreamClosed != null) {
        onStreamClosed.accept(stream);
      }
    }

    @Override
    public void onStreamRemoved(Http2Stream stream) {
      vertx.onStreamRemoved(stream);
    }

    @Override
    public void onGoAwaySent(int lastStreamId, long errorCode, ByteBuf debugData) {
      vertx.onGoAwaySent(lastStreamId, errorCode, debugData);
    }

    @Override
    public void onGoAwayReceived(int lastStreamId, long errorCode, ByteBuf debugData) {
      vertx.onGoAwayReceived(lastStreamId, errorCode, debugData);
    }
  }

  private void stop() {
    closed = true;
    cancelAll();
  }

  /** Walks the bytes of a read before the codec has them: Netty's own cumulation follows. */
  @Override
  public ByteBuf cumulate(ByteBufAllocator alloc, ByteBuf cumulation, ByteBuf in) {
    try {
      walk(in);
    } catch (RuntimeException e) {
      in.release(); // a cumulator owns what it is given (a timer refused by a loop shutting down)
      throw e;
    }
    return ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(alloc, cumulation, in);
  }

  private void walk(ByteBuf in) {
    if (head != Head.EXPIRED) {
      inbound.walk(in, clientFrames);
      if (headBegan && (head == Head.FRAME || head == Head.BLOCK)) {
        // A frame, or a header block, counts from the read that brought its first byte, as an
        // HTTP/1.1 head does; one that ended in the same read never needed the clock.
        headSince = now();
        armHead();
      }
      headBegan = false;
      if (headEnded) {
        headEnded = false;
        idle.headEnded();
      }
    }
  }

  /**
   * One head timer, never cancelled on the way: it fires at the deadline it was set for, and then
   * sets itself again for what is in progress, or stops if nothing is.
   */
  private void armHead() {
    if (headTimer == null && !closed) {
      headTimer = schedule(headNanos - (now() - headSince));
    }
  }

  private void checkHead() {
    headTimer = null;
    if (head != Head.HANDSHAKE && head != Head.FRAME && head != Head.BLOCK) {
      return;
    }
    long left = headNanos - (now() - headSince);
    if (left > 0) {
      headTimer = schedule(left);
      return;
    }
    expire(head == Head.HANDSHAKE ? "preface and SETTINGS timeout" : "request head timeout");
  }

  /**
   * A limit has expired: a GOAWAY naming the last stream that began, so the client knows what was
   * not processed; then the close, from here, past the codec's graceful wait for its streams.
   */
  private void expire(String what) {
    head = Head.EXPIRED;
    cancelAll();
    errors.accept("HTTP/2 " + what + ", closed", String.valueOf(ctx.channel().remoteAddress()));
    codec
        .goAway(
            ctx,
            connection.remote().lastStreamCreated(),
            Http2Error.NO_ERROR.code(),
            ByteBufUtil.writeAscii(ctx.alloc(), what),
            ctx.newPromise())
        .addListener(written -> ctx.close());
    ctx.flush();
  }

  /** The connection has been idle for the idle timeout. */
  private void idle() {
    if (onIdle != null) {
      onIdle.run();
    } else {
      ctx.channel().close();
    }
  }

  private void cancelAll() {
    if (headTimer != null) {
      headTimer.cancel(false);
    }
    bodies.stop();
    writes.stop();
    idle.stop();
  }

  private long now() {
    return ctx.executor().ticker().nanoTime();
  }

  private Future<?> schedule(long delayNanos) {
    return ctx.executor().schedule(this::checkHead, Math.max(1, delayNanos), NANOSECONDS);
  }
}
