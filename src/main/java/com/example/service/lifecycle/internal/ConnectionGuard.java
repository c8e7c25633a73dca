package com.example.service.lifecycle.internal;

import com.example.service.lifecycle.HttpLimits;
import com.example.service.lifecycle.internal.Http1State.Reading;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.function.IntConsumer;
import java.util.logging.Level;

/**
 * Holds one HTTP/1.1 connection to its {@link HttpLimits}, below Vert.x, where the bytes are:
 * Vert.x 5.0 offers only a read-idle timeout, which a client sending one byte a second keeps alive,
 * and no write timeout. It puts small handlers into the connection's pipeline, each with one
 * concern, and acts when one of them reports:
 *
 * <ul>
 *   <li>{@link ProtocolSniffer}: the first bytes, HTTP/1, HTTP/2's preface or TLS;
 *   <li>{@link Http1Decoder}, in place of Vert.x's decoder: the framing rules;
 *   <li>{@link ResponseWatch}, after Vert.x's encoder: responses going out, Vert.x's closes;
 *   <li>{@link Http1State}: where the connection is, and its head, idle and body timeouts;
 *   <li>{@link WriteStallWatch}: the write timeout;
 *   <li>{@link GracefulClose}: closing without losing a response, and counting what a cut loses.
 * </ul>
 *
 * <p>Everything here runs on the connection's event loop.
 */
final class ConnectionGuard {

  /**
   * What every guard of a server shares.
   *
   * @param http2 takes over a connection that opens with the HTTP/2 preface; null to refuse them
   */
  record Settings(
      HttpServerOptions server, HttpLimits limits, ClientErrors errors, Http2Switch http2) {}

  /** What a guard tells its connection's owner, on the connection's loop. */
  interface Events {
    /**
     * A response (not a 1xx, not a 101) has been written whole: its last part is queued on the
     * channel. Vert.x answers one request at a time, so it is the oldest request's.
     */
    void responseEnded();

    /**
     * The guard closed the connection with {@code requests} unanswered: read but not answered, or
     * answered but not sent.
     */
    void lost(int requests);

    /**
     * The client sent the HTTP/2 preface ({@code upgrade} null) or an h2c upgrade request, whose
     * 101 is written: hand the pipeline to {@link Settings#http2}.
     */
    void http2(Http2Switch.Upgrade upgrade);

    /**
     * An upgraded connection (a WebSocket) has closed: Vert.x no longer tells the HTTP connection's
     * close handler, whose place the WebSocket's took.
     */
    void upgradedClosed();
  }

  private final Settings settings;
  private final Channel channel;
  private final Http1State state;
  private final GracefulClose close;
  private final WriteStallWatch stall;
  private final ChannelFutureListener stopWhenClosed = f -> stop();
  private ChannelHandlerContext decoder;
  private ChannelHandlerContext watch;

  private ConnectionGuard(Settings settings, Channel channel, IntConsumer onLost) {
    this.settings = settings;
    this.channel = channel;
    this.state = new Http1State(settings.limits(), this::expired);
    this.close = new GracefulClose(channel, state, this::below, onLost);
    this.stall =
        new WriteStallWatch(channel, settings.limits().writeTimeout().toNanos(), this::stalled);
  }

  /**
   * Puts a guard in front of a connection Vert.x has just accepted; call it from the server's
   * connection handler, before the connection has read anything.
   */
  static ConnectionGuard install(HttpConnection connection, Settings settings, Events events) {
    return install(Internals.pipeline(connection).pipeline(), settings, events);
  }

  /** As above, on a pipeline with Vert.x's HTTP/1 handlers. */
  static ConnectionGuard install(ChannelPipeline pipeline, Settings settings, Events events) {
    ConnectionGuard guard = new ConnectionGuard(settings, pipeline.channel(), events::lost);
    Http2Switch http2 = settings.http2();
    Http1Decoder decoder =
        new Http1Decoder(
            settings.server(),
            guard.state,
            settings.limits(),
            http2,
            events::http2,
            guard.close::closing,
            guard.close::discard);
    ProtocolSniffer sniffer =
        new ProtocolSniffer(
            http2 != null,
            new ProtocolSniffer.Verdict() {
              @Override
              public void tls() {
                guard.answer(400, "TLS handshake on a plain HTTP port", "400 TLS on plain HTTP");
              }

              @Override
              public void http2() {
                // Timers off, then the pipeline is HTTP/2's, without the HTTP/1 decoder.
                guard.state.read(Reading.REJECTED, false);
                events.http2(null);
                pipeline.remove(decoder);
              }
            });
    ResponseWatch watch = new ResponseWatch(guard.state, guard.close, guard.stall, events);
    pipeline.replace(Internals.DECODER, Internals.DECODER, decoder);
    pipeline.addBefore(Internals.DECODER, ProtocolSniffer.NAME, sniffer);
    pipeline.addAfter(Internals.ENCODER, ResponseWatch.NAME, watch);
    guard.decoder = pipeline.context(decoder);
    guard.watch = pipeline.context(watch);
    guard.state.start(pipeline.channel().eventLoop());
    pipeline.channel().closeFuture().addListener(guard.stopWhenClosed);
    return guard;
  }

  /**
   * The connection is HTTP/2's now: this guard has no more to do, and its channel's close must not
   * keep it (with the HTTP/1 decoder and Vert.x's HTTP/1 connection it reaches) as long as the
   * HTTP/2 connection lives.
   */
  void handedOn() {
    stop();
    channel.closeFuture().removeListener(stopWhenClosed);
  }

  /** The connection's channel. */
  Channel channel() {
    return channel;
  }

  /** Whether response bytes are still waiting for the client to read them. */
  boolean outputPending() {
    return state.responding()
        || Internals.pendingBytes(channel) > 0
        || !channel.isWritable()
        || state.reading() == Reading.LINGERING
        || state.reading() == Reading.UPGRADED;
  }

  /** How long since its last response ended, or since the accept before one. */
  long quietNanos() {
    return state.sinceLastResponseNanos();
  }

  /** See {@link GracefulClose#closeWhenFlushed}. */
  void closeWhenFlushed(boolean afterResponse) {
    close.closeWhenFlushed(afterResponse);
  }

  /** See {@link GracefulClose#cut}. */
  void cut() {
    close.cut();
  }

  /**
   * Where a close or a raw answer skips Vert.x's handlers: the decoder's place; after an upgrade,
   * which removes the decoder, the response watch's.
   */
  private ChannelHandlerContext below() {
    return decoder.isRemoved() ? watch : decoder;
  }

  private void stop() {
    state.closed();
    stall.stop();
    close.stop();
  }

  private void expired(Reading reading) {
    long head = settings.limits().headTimeout().toMillis();
    switch (reading) {
      case NEW, AWAITING_HEAD -> {
        // Keep-alive idle, or a connection that never sent a byte: nothing to answer.
        state.read(Reading.REJECTED, false);
        below().close();
      }
      case HEAD ->
          answer(
              408, "request head not received within " + head + " ms", "408 request head timeout");
      case BODY -> {
        if (state.open() == 0 || state.responding()) {
          // Answered already (a route that reads no body), or mid-response: close, no more.
          settings.errors().record(Level.INFO, "request body timeout, closed", remote());
          cut();
        } else {
          answer(
              408,
              "request body not received within "
                  + settings.limits().bodyTimeout().toMillis()
                  + " ms",
              "408 request body timeout");
        }
      }
      case REFUSED, LINGERING, REJECTED, UPGRADED -> {}
    }
  }

  private void stalled() {
    if (state.rejected()) {
      return;
    }
    settings
        .errors()
        .record(
            Level.INFO,
            "response cut: no write progress for "
                + settings.limits().writeTimeout().toMillis()
                + " ms",
            remote());
    cut();
  }

  /**
   * Answers with the template's JSON error and closes, written below Vert.x: Vert.x has no request
   * for it (or will never finish reading the one it has). With a response of Vert.x's in progress
   * the connection is just cut, as bytes must not interleave.
   */
  private void answer(int status, String message, String kind) {
    settings.errors().record(Level.INFO, kind, remote());
    boolean canAnswer =
        !state.responding()
            && (state.open() == 0 || (state.open() == 1 && state.reading() == Reading.BODY));
    state.read(Reading.REJECTED, false);
    if (!canAnswer) {
      below().close();
      return;
    }
    byte[] body = new JsonObject().put("error", message).encode().getBytes(StandardCharsets.UTF_8);
    String head =
        "HTTP/1.1 "
            + status
            + " "
            + HttpResponseStatus.valueOf(status).reasonPhrase()
            + "\r\ncontent-type: application/json\r\ncontent-length: "
            + body.length
            + "\r\nconnection: close\r\n\r\n";
    ByteBuf bytes = Unpooled.wrappedBuffer(head.getBytes(StandardCharsets.ISO_8859_1), body);
    below().writeAndFlush(bytes).addListener(ChannelFutureListener.CLOSE);
  }

  private String remote() {
    return String.valueOf(channel.remoteAddress());
  }
}
