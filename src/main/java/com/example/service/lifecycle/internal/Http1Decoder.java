package com.example.service.lifecycle.internal;

import com.example.service.lifecycle.HttpLimits;
import com.example.service.lifecycle.internal.Http1State.Reading;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.vertx.core.http.HttpServerOptions;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Vert.x's HTTP/1 request decoder, holding each request to the framing rules a proxy and this
 * server must agree on, and reporting what it reads to the connection's {@link Http1State}.
 *
 * <p>Vert.x 5.0 passes a request with both {@code Content-Length} and {@code Transfer-Encoding} on
 * as chunked and keeps the connection open, and answers an unknown HTTP version in that version.
 * Here such a request, and one declaring a body over the limit, becomes an invalid request (its
 * failure carries the status) that Vert.x answers with the invalid-request handler and closes;
 * nothing after its head is read. Vert.x still receives exactly the messages it expects.
 */
final class Http1Decoder extends Internals.RequestDecoder {

  /** A failed decoder result that carries the status to answer. */
  static final class BadRequest extends RuntimeException {
    final int status;

    BadRequest(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  private static final byte[] SWITCHING_TO_H2C =
      "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n"
          .getBytes(StandardCharsets.ISO_8859_1);

  private final Http1State state;
  private final HttpLimits limits;
  private final Http2Switch http2;
  private final Consumer<Http2Switch.Upgrade> onUpgrade;
  private final BooleanSupplier closing;
  private final Consumer<ByteBuf> lingering;

  /**
   * Where the decoder is within the current {@code decode} call: NEW, AWAITING_HEAD, HEAD, BODY.
   */
  private Reading parsing;

  /** Why the head being decoded will be refused, if it will. */
  private BadRequest refusal;

  /**
   * @param http2 takes {@code Upgrade: h2c} requests, or null
   * @param onUpgrade told of an h2c upgrade, after its 101 is written: switch the pipeline (the
   *     decoder then removes itself, passing on the request as stream 1 and the bytes after it)
   * @param closing whether the connection is to close after its response (no upgrade then)
   * @param lingering takes the input that arrives while {@link Reading#LINGERING}
   */
  Http1Decoder(
      HttpServerOptions options,
      Http1State state,
      HttpLimits limits,
      Http2Switch http2,
      Consumer<Http2Switch.Upgrade> onUpgrade,
      BooleanSupplier closing,
      Consumer<ByteBuf> lingering) {
    super(options);
    this.state = state;
    this.limits = limits;
    this.http2 = http2;
    this.onUpgrade = onUpgrade;
    this.closing = closing;
    this.lingering = lingering;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out)
      throws Exception {
    parsing = state.reading();
    switch (parsing) {
      case LINGERING -> {
        lingering.accept(buffer);
        return;
      }
      case REFUSED, REJECTED, UPGRADED -> {
        buffer.skipBytes(buffer.readableBytes());
        return;
      }
      case NEW, AWAITING_HEAD, HEAD, BODY -> {}
    }
    int from = out.size();
    super.decode(ctx, buffer, out);
    boolean newHead = false;
    for (int i = from; i < out.size(); i++) {
      Object message = out.get(i);
      if (message instanceof HttpMessage head) {
        newHead = true;
        parsing = Reading.BODY;
        state.requestRead();
        if (refusal == null
            && limits.declaresTooLarge(head.headers().get(HttpHeaderNames.CONTENT_LENGTH))) {
          refusal = new BadRequest(413, limits.bodyTooLarge());
        }
        if (refusal != null) {
          // Set here: Netty replaces the decoder result once the head is complete. Nothing after
          // the head is read: not its body, not a request smuggled behind it.
          head.setDecoderResult(DecoderResult.failure(refusal));
          refusal = null;
          out.subList(i + 1, out.size()).clear();
          buffer.skipBytes(buffer.readableBytes());
          state.read(Reading.REFUSED, false);
          return;
        }
        Http2Switch.Upgrade upgrade =
            http2 != null
                    && state.open() == 1
                    && !closing.getAsBoolean()
                    && head instanceof HttpRequest request
                ? http2.upgrade(request)
                : null;
        if (upgrade != null) {
          // The request and its (empty) end go to HTTP/2 as stream 1, after the 101.
          out.subList(i, out.size()).clear();
          state.read(Reading.REJECTED, false);
          ctx.writeAndFlush(Unpooled.wrappedBuffer(SWITCHING_TO_H2C));
          onUpgrade.accept(upgrade);
          out.add(upgrade.request());
          ctx.pipeline().remove(this);
          return;
        }
      }
      if (message instanceof LastHttpContent) {
        parsing = Reading.AWAITING_HEAD;
      }
    }
    // Bytes the decoder left unread, outside a body, are the start of the next head.
    if ((parsing == Reading.NEW || parsing == Reading.AWAITING_HEAD) && buffer.isReadable()) {
      parsing = Reading.HEAD;
    }
    state.read(parsing, newHead);
  }

  /** A connection the guard answered or cut has no half-read request to report at its close. */
  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out)
      throws Exception {
    switch (state.reading()) {
      case NEW, AWAITING_HEAD, HEAD, BODY -> super.decodeLast(ctx, buffer, out);
      case REFUSED, LINGERING, REJECTED, UPGRADED -> buffer.skipBytes(buffer.readableBytes());
    }
  }

  @Override
  protected HttpMessage createMessage(String[] initialLine) {
    HttpMessage message = super.createMessage(initialLine);
    parsing = Reading.HEAD;
    HttpVersion version = message.protocolVersion();
    if (!version.equals(HttpVersion.HTTP_1_1) && !version.equals(HttpVersion.HTTP_1_0)) {
      // Answered in HTTP/1.1, never in a version the client made up.
      boolean http = "HTTP".equals(version.protocolName());
      message.setProtocolVersion(HttpVersion.HTTP_1_1);
      refusal =
          http
              ? new BadRequest(505, "HTTP version not supported")
              : new BadRequest(400, "malformed request line");
    }
    return message;
  }

  @Override
  protected HttpMessage createInvalidMessage() {
    return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/bad-request");
  }

  /** RFC 9112 §6.1: such a request may be a smuggling attempt; answer 400 and close. */
  @Override
  protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
    super.handleTransferEncodingChunkedWithContentLength(message);
    refusal = new BadRequest(400, "both Content-Length and Transfer-Encoding in one request");
  }
}
