package com.example.service.lifecycle.internal;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.concurrent.Future;
import java.util.LinkedHashMap;
import java.util.function.BiConsumer;

/**
 * The body timeout of an HTTP/2 connection's streams: a stream its client has not ended within the
 * timeout from its start is reset (RST_STREAM with CANCEL), as the HTTP/1.1 guard answers 408; the
 * connection and its other streams go on. A GET, whose HEADERS end its stream, costs nothing here.
 * Told of the connection's streams by {@link Http2Timeouts}; every method runs on the connection's
 * loop.
 */
final class Http2BodyTimeout {

  private final ChannelHandlerContext ctx;
  private final Http2ConnectionHandler codec;
  private final long bodyNanos;
  private final BiConsumer<String, String> errors;

  /**
   * Streams whose client is still sending its body, with when they began, in the order they began:
   * the first is the next to time out. A stream leaves when its client ends it, or it closes.
   */
  private final LinkedHashMap<Http2Stream, Long> receiving = new LinkedHashMap<>();

  private Future<?> timer;
  private boolean stopped;

  /**
   * @param ctx the context of {@code codec}, the connection's HTTP/2 handler, whose loop and clock
   *     it uses
   * @param errors told of each stream reset: a kind to count, and the client
   */
  Http2BodyTimeout(
      ChannelHandlerContext ctx,
      Http2ConnectionHandler codec,
      long bodyNanos,
      BiConsumer<String, String> errors) {
    this.ctx = ctx;
    this.codec = codec;
    this.bodyNanos = bodyNanos;
    this.errors = errors;
  }

  /** A stream has opened. */
  void streamActive(Http2Stream stream) {
    if (stopped || !stream.state().remoteSideOpen()) {
      return;
    }
    receiving.put(stream, now());
    if (timer == null) {
      timer = ctx.executor().schedule(this::check, bodyNanos, NANOSECONDS);
    }
  }

  /** A stream's client or server side has ended. */
  void streamHalfClosed(Http2Stream stream) {
    if (!stream.state().remoteSideOpen()) {
      forget(stream); // its body is whole
    }
  }

  /** A stream has closed. */
  void streamClosed(Http2Stream stream) {
    forget(stream);
  }

  private void forget(Http2Stream stream) {
    // Not asked of an empty map, as it is for every GET: a remove hashes the stream, and a stream's
    // first identity hash is a call into the JVM, on every request.
    if (!receiving.isEmpty()) {
      receiving.remove(stream);
    }
  }

  /** The connection is closed: the timer is cancelled and never set again. */
  void stop() {
    stopped = true;
    receiving.clear();
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void check() {
    timer = null;
    long now = now();
    for (var it = receiving.entrySet().iterator(); it.hasNext(); ) {
      var first = it.next();
      Http2Stream stream = first.getKey();
      long since = first.getValue();
      if (stream.state().remoteSideOpen() && now - since < bodyNanos) {
        timer =
            ctx.executor()
                .schedule(this::check, Math.max(1, bodyNanos - (now - since)), NANOSECONDS);
        break;
      }
      it.remove();
      if (stream.state().remoteSideOpen()) {
        errors.accept(
            "HTTP/2 request body timeout, stream reset",
            String.valueOf(ctx.channel().remoteAddress()));
        codec.resetStream(ctx, stream.id(), Http2Error.CANCEL.code(), ctx.newPromise());
      }
    }
    ctx.flush();
  }

  private long now() {
    return ctx.executor().ticker().nanoTime();
  }
}
