package com.example.service.lifecycle.internal;

import static java.util.concurrent.TimeUnit.MILLISECONDS;

import com.example.service.lifecycle.internal.Http1State.Reading;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * Closes an HTTP/1.1 connection without losing a response: once the client has taken every byte
 * (Netty's close would drop what is still queued), and then lingering, so that unread input does
 * not make the kernel reset the connection under the last response. What a close does lose is
 * counted: requests read and never to be answered, a response cut short.
 *
 * <p>Everything runs on the connection's event loop.
 */
final class GracefulClose {

  /** How long a closing connection waits for its client's end-of-stream. */
  static final long LINGER_MS = 500;

  /** How much input a closing connection reads and drops before it stops waiting. */
  static final long MAX_LINGER_DISCARD = 256 * 1024;

  /** What has been asked of it. */
  enum Closing {
    NO,
    /** Close once the output is out. */
    WHEN_FLUSHED,
    /** Close once the output is out, then linger: a response was just written. */
    WHEN_FLUSHED_THEN_LINGER
  }

  private final Channel channel;
  private final Http1State state;
  private final Supplier<ChannelHandlerContext> below;
  private final IntConsumer onLost;
  private Closing closing = Closing.NO;

  /** An empty write is queued to tell when the output before it has gone out. */
  private boolean awaitingFlush;

  /** Input read and dropped while lingering: at least one request goes unanswered. */
  private long discarded;

  private ScheduledFuture<?> lingerTimer;

  /**
   * @param below the context whose close skips Vert.x's handlers (and the guard's interception of
   *     their close)
   * @param onLost told how many requests went unanswered when the connection is cut
   */
  GracefulClose(
      Channel channel,
      Http1State state,
      Supplier<ChannelHandlerContext> below,
      IntConsumer onLost) {
    this.channel = channel;
    this.state = state;
    this.below = below;
    this.onLost = onLost;
  }

  /** Whether a close has been asked for. */
  boolean closing() {
    return closing != Closing.NO;
  }

  /**
   * Closes the connection once the client has taken every response byte. A client that stops
   * reading is cut by the write timeout instead.
   *
   * @param afterResponse a response has just been written: linger, so that it reaches the client
   */
  void closeWhenFlushed(boolean afterResponse) {
    if (afterResponse || closing == Closing.WHEN_FLUSHED_THEN_LINGER) {
      closing = Closing.WHEN_FLUSHED_THEN_LINGER;
    } else {
      closing = Closing.WHEN_FLUSHED;
    }
    closeIfFlushed();
  }

  /** Closes now if a close was asked for and the output is out; else waits to be called again. */
  void closeIfFlushed() {
    if (closing == Closing.NO
        || state.rejected()
        || state.reading() == Reading.LINGERING
        || state.responding() // the write of its end calls back
        || !channel.isWritable()) { // the writability change calls back
      return;
    }
    if (Internals.pendingBytes(channel) == 0) {
      closeFlushed();
    } else if (!awaitingFlush && channel.isActive()) {
      // An empty write completes once everything queued before it is on the wire.
      awaitingFlush = true;
      below
          .get()
          .writeAndFlush(Unpooled.EMPTY_BUFFER)
          .addListener(
              f -> {
                awaitingFlush = false;
                // Netty counts this write as pending until just after telling us.
                if (f.isSuccess() && !state.responding() && !state.rejected()) {
                  closeFlushed();
                }
              });
    }
  }

  private void closeFlushed() {
    if (state.reading() == Reading.LINGERING) {
      return;
    }
    if (state.open() > 0 || closing != Closing.WHEN_FLUSHED_THEN_LINGER) {
      // Pipelined requests read and never to be answered are counted, not waited for.
      cut();
    } else {
      linger();
    }
  }

  /**
   * Closing a socket with unread input makes the kernel send a reset, and a reset destroys the
   * response bytes the client has not read yet. So our side is shut down first (the client gets
   * every byte, then end-of-stream), and input is read and dropped until the client closes, for
   * {@link #LINGER_MS} at most: as Go's server does.
   */
  private void linger() {
    state.read(Reading.LINGERING, false);
    if (!(channel instanceof DuplexChannel duplex)) {
      cut();
      return;
    }
    duplex.shutdownOutput();
    channel.config().setAutoRead(true);
    channel.read();
    lingerTimer = channel.eventLoop().schedule(this::cut, LINGER_MS, MILLISECONDS);
  }

  /** Input that arrived while lingering: requests that will not be answered. */
  void discard(ByteBuf input) {
    discarded += input.readableBytes();
    input.skipBytes(input.readableBytes());
    if (discarded > MAX_LINGER_DISCARD) {
      // A client still uploading gets its answer as soon as it reads; not a free sink.
      cut();
    }
  }

  /**
   * Closes the connection at once, dropping what it has not sent, and reports the requests that
   * lost their answer: those read (pipelined, say) and not answered, and a response still queued.
   */
  void cut() {
    int lost =
        state.open()
            + (Internals.pendingBytes(channel) > 0 && !state.responding() ? 1 : 0)
            + (discarded > 0 ? 1 : 0)
            + (state.reading() == Reading.UPGRADED ? 1 : 0); // the WebSocket's stream
    state.read(Reading.REJECTED, false);
    stop();
    below.get().close();
    if (lost > 0) {
      onLost.accept(lost);
    }
  }

  /** Cancels the linger timer: the connection is closed. */
  void stop() {
    if (lingerTimer != null) {
      lingerTimer.cancel(false);
      lingerTimer = null;
    }
  }
}
