package com.example.service.lifecycle.internal;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.util.concurrent.Future;
import java.util.function.BooleanSupplier;

/**
 * The idle timeout of an HTTP/2 connection: one with no open stream for the timeout, counted from
 * the end of its handshake or its last stream's close, and no header block in progress, is told to
 * go ({@code idle} runs, once). Told of the connection's streams and header blocks by {@link
 * Http2Timeouts}; every method runs on the connection's loop.
 *
 * <p>One timer, never cancelled on the way: it fires at the deadline it was set for, and then sets
 * itself again for what is left, or stops while a stream or a header block is open; the last
 * stream's close or the block's end sets it again. So a request that comes and goes within the
 * timeout costs no timer.
 */
final class Http2IdleTimeout {

  private final ChannelHandlerContext ctx;
  private final Http2Connection connection;
  private final long idleNanos;
  private final BooleanSupplier headOpen;
  private final Runnable idle;

  private long since;
  private Future<?> timer;

  /** The timeout has passed: the connection is going away, and is never idle again. */
  private boolean idled;

  private boolean stopped;

  /**
   * @param ctx the context of the connection's HTTP/2 handler, whose loop and clock it uses
   * @param connection the handler's connection, whose open streams it counts
   * @param headOpen whether the handshake or a header block is in progress, which holds the timer
   * @param idle run once when the connection has been idle for {@code idleNanos}
   */
  Http2IdleTimeout(
      ChannelHandlerContext ctx,
      Http2Connection connection,
      long idleNanos,
      BooleanSupplier headOpen,
      Runnable idle) {
    this.ctx = ctx;
    this.connection = connection;
    this.idleNanos = idleNanos;
    this.headOpen = headOpen;
    this.idle = idle;
  }

  /**
   * The handshake has ended: idle from now. The timer is set at {@link #headEnded}, when the
   * handshake is no longer in progress.
   */
  void handshakeEnded() {
    since = now();
  }

  /**
   * A stream has closed: if it was the last, idle from now, even in a header block (the block may
   * open none).
   */
  void streamClosed() {
    if (connection.numActiveStreams() == 0) {
      since = now();
      if (mayArm()) {
        timer = schedule(idleNanos);
      }
    }
  }

  /**
   * The handshake or a header block has ended, before the handler has read it (so a block's stream
   * is not open yet; the timer checks again when it fires): the timer runs again if it stopped
   * while either was in progress. The idle time still counts from the last stream's close: a block
   * that opens no stream leaves the connection as idle as it was.
   */
  void headEnded() {
    if (mayArm()) {
      timer = schedule(idleNanos - (now() - since));
    }
  }

  /** The connection is closed, or closing: the timer is cancelled and never set again. */
  void stop() {
    stopped = true;
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private boolean mayArm() {
    return timer == null
        && !idled
        && !stopped
        && !headOpen.getAsBoolean()
        && connection.numActiveStreams() == 0;
  }

  private void check() {
    timer = null;
    if (!mayArm()) {
      return; // set again when the last stream closes or the block ends
    }
    long left = idleNanos - (now() - since);
    if (left > 0) {
      timer = schedule(left);
      return;
    }
    idled = true;
    idle.run();
  }

  private long now() {
    return ctx.executor().ticker().nanoTime();
  }

  private Future<?> schedule(long delayNanos) {
    return ctx.executor().schedule(this::check, Math.max(1, delayNanos), NANOSECONDS);
  }
}
