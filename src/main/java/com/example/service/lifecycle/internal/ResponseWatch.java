package com.example.service.lifecycle.internal;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

/**
 * Sees each HTTP/1.1 response go out, after Vert.x's encoder: where one starts and ends (for the
 * {@link Http1State}, and for the connection's owner, which settles its request by it), Vert.x's
 * closes (made graceful), and the channel's writability (for the write timeout and the close that
 * waits on the flush).
 */
final class ResponseWatch extends ChannelDuplexHandler {

  /** Its name in the pipeline, after Vert.x's response encoder. */
  static final String NAME = "responseGuard";

  private final Http1State state;
  private final GracefulClose close;
  private final WriteStallWatch stall;
  private final ConnectionGuard.Events events;

  ResponseWatch(
      Http1State state, GracefulClose close, WriteStallWatch stall, ConnectionGuard.Events events) {
    this.state = state;
    this.close = close;
    this.stall = stall;
    this.events = events;
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (state.rejected() && msg instanceof HttpObject) {
      // The guard answered this connection itself; Vert.x's late response must not follow.
      ReferenceCountUtil.release(msg);
      promise.setFailure(new IllegalStateException("connection closed by its guard"));
      return;
    }
    if (msg instanceof HttpResponse response) {
      if (response.status().code() == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
        state.upgraded();
        ctx.channel().closeFuture().addListener(f -> events.upgradedClosed());
      } else if (response.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
        state.responseStarted();
      }
    }
    boolean ended = msg instanceof LastHttpContent && state.responseEnded();
    if (ended && close.closing()) {
      promise = promise.unvoid();
      promise.addListener(f -> close.closeIfFlushed());
    }
    ctx.write(msg, promise);
    if (ended) {
      // Once queued: what the owner does next (a close when flushed) must find it there.
      events.responseEnded();
    }
  }

  /**
   * Vert.x closes a connection right after writing its last response (a request without keep-alive,
   * a listener shutdown), which loses that response if the client has not read it by then. Every
   * close of Vert.x's waits for the flush and lingers instead.
   */
  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    if (state.rejected() || state.reading() == Http1State.Reading.UPGRADED) {
      ctx.close(promise);
      return;
    }
    ctx.channel().closeFuture().addListener(f -> promise.trySuccess());
    close.closeWhenFlushed(state.answered());
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (!ctx.channel().isWritable()) {
      if (!state.rejected()) {
        stall.unwritable();
      }
    } else {
      close.closeIfFlushed();
    }
    ctx.fireChannelWritabilityChanged();
  }
}
