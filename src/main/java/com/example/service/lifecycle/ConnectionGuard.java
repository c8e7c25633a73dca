package com.example.service.lifecycle;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.HttpServerConnection;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.logging.Level;

/**
 * Holds one HTTP/1.1 connection to its timeouts and to the request framing a proxy and this server
 * must agree on, below Vert.x, where the bytes are.
 *
 * <p>Vert.x 5.0 offers only a read-idle timeout, which a client sending one byte a second keeps
 * alive, and no write timeout; it passes a request with both {@code Content-Length} and {@code
 * Transfer-Encoding} on as chunked and keeps the connection open, and answers an unknown HTTP
 * version in that version. So this replaces Vert.x's request decoder in the connection's pipeline
 * with a subclass of it (Vert.x still receives exactly the messages it expects) and adds a small
 * handler after the response encoder that sees each response go out. It reaches the pipeline
 * through {@link HttpServerConnection}, Vert.x's internal connection type, pinned by the Vert.x
 * BOM; the tests exercise every rule here through real sockets, so a Vert.x upgrade that moves it
 * fails them.
 *
 * <p>Everything here runs on the connection's event loop.
 */
final class ConnectionGuard extends VertxHttpRequestDecoder {

  /** What the connection is receiving; {@link #read} is the one place that changes it. */
  enum Reading {
    /** Between requests: nothing of the next one has arrived. */
    AWAITING_HEAD,
    /** Part of a request head has arrived. */
    HEAD,
    /** A request head has arrived and its body is still coming. */
    BODY,
    /** A request was refused (Vert.x answers it and closes): nothing after it is read. */
    REFUSED,
    /**
     * Our side is shut down after the last response; input is discarded until the client closes.
     */
    LINGERING,
    /** The guard answered or cut the connection; further bytes are dropped. */
    REJECTED,
    /**
     * The connection switched protocols (a WebSocket): the handshake replaced this decoder, and the
     * guard lets Vert.x close it as it will.
     */
    UPGRADED
  }

  /**
   * What every guard of a server shares.
   *
   * @param http2 takes over a connection that opens with the HTTP/2 preface; null to refuse them
   */
  record Settings(
      HttpServerOptions server, HttpLimits limits, ClientErrors errors, Http2Switch http2) {}

  /** The name of the handler that sees responses go out, after Vert.x's encoder. */
  static final String RESPONSE_WATCH = "responseGuard";

  /** What an HTTP/2 client with prior knowledge sends first (RFC 9113 §3.4). */
  private static final byte[] HTTP2_PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);

  private static final byte[] SWITCHING_TO_H2C =
      "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n"
          .getBytes(StandardCharsets.ISO_8859_1);

  /** A failed decoder result that carries the status to answer. */
  static final class BadRequest extends RuntimeException {
    final int status;

    BadRequest(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  private static final byte TLS_HANDSHAKE = 0x16;

  /** How long a closing connection waits for its client's end-of-stream. */
  static final long LINGER_MS = 500;

  /** How much input a closing connection reads and drops before it stops waiting. */
  static final long MAX_LINGER_DISCARD = 256 * 1024;

  private final Settings settings;
  private final long headNanos;
  private final long idleNanos;
  private final long bodyNanos;
  private final long writeNanos;
  private final long maxBodyBytes;
  private final IntConsumer onLost;
  private final Consumer<Http2Switch.Upgrade> onHttp2;
  private final Runnable onUpgradedClose;
  private final ResponseWatch responses = new ResponseWatch();

  private ChannelHandlerContext ctx;
  private Reading reading = Reading.AWAITING_HEAD;
  private long readingSince = System.nanoTime();
  private boolean firstRequest = true;

  /** No byte has been decoded as HTTP/1 yet: the connection may still turn out to be HTTP/2. */
  private boolean untouched = true;

  /** Set between the request line and the end of the head, which may span many reads. */
  private boolean inHead;

  private boolean inBody;

  /** Why the head being decoded will be refused, if it will. */
  private BadRequest refusal;

  /** Requests received whose response has not been written to the channel yet. */
  private int open;

  /** A response's head is out and its end is not. */
  private boolean responseStarted;

  private long lastResponseEnd = readingSince;

  /** {@link #closeWhenFlushed} was called. */
  private boolean closing;

  private boolean lingers;

  /** A response has been written on this connection. */
  private boolean answered;

  /** Bytes arrived while {@link Reading#LINGERING}: at least one request goes unanswered. */
  private boolean discardedInput;

  private long lingerDiscarded;

  /** An empty write is queued to tell when the output before it has gone out. */
  private boolean awaitingFlush;

  private ScheduledFuture<?> timer;
  private long timerAt;
  private ScheduledFuture<?> stallCheck;
  private long stallProgressAt;
  private long stallPending;

  private ConnectionGuard(
      Settings settings,
      IntConsumer onLost,
      Consumer<Http2Switch.Upgrade> onHttp2,
      Runnable onUpgradedClose) {
    super(settings.server());
    this.settings = settings;
    HttpLimits limits = settings.limits();
    this.headNanos = limits.headTimeout().toNanos();
    this.idleNanos = limits.idleTimeout().toNanos();
    this.bodyNanos = limits.bodyTimeout().toNanos();
    this.writeNanos = limits.writeTimeout().toNanos();
    this.maxBodyBytes = limits.maxBodyBytes();
    this.onLost = onLost;
    this.onHttp2 = settings.http2() == null ? null : onHttp2;
    this.onUpgradedClose = onUpgradedClose;
  }

  /**
   * Puts a guard in front of a connection Vert.x has just accepted; call it from the server's
   * connection handler, before the connection has read anything.
   *
   * @param onLost told how many requests went unanswered when the guard closed the connection: read
   *     but not answered, or answered but not sent
   * @param onHttp2 the client sent the HTTP/2 preface (null) or an h2c upgrade request, whose 101
   *     is written: hand the pipeline to {@link Settings#http2} (the guard then removes itself,
   *     passing on the upgrade request as stream 1 and the bytes after it)
   * @param onUpgradedClose an upgraded connection (a WebSocket) has closed: Vert.x no longer tells
   *     the HTTP connection's close handler, whose place the WebSocket's took
   */
  static ConnectionGuard install(
      HttpConnection connection,
      Settings settings,
      IntConsumer onLost,
      Consumer<Http2Switch.Upgrade> onHttp2,
      Runnable onUpgradedClose) {
    if (!(connection instanceof HttpServerConnection internal)) {
      throw new IllegalStateException(
          "unexpected connection type " + connection.getClass().getName());
    }
    ChannelPipeline pipeline = internal.channelHandlerContext().pipeline();
    ConnectionGuard guard = new ConnectionGuard(settings, onLost, onHttp2, onUpgradedClose);
    pipeline.replace("httpDecoder", "httpDecoder", guard);
    pipeline.addAfter("httpEncoder", RESPONSE_WATCH, guard.responses);
    return guard;
  }

  /** The connection's channel. */
  Channel channel() {
    return ctx.channel();
  }

  /** Whether response bytes are still waiting for the client to read them. */
  boolean outputPending() {
    return responseStarted
        || pendingBytes() > 0
        || !ctx.channel().isWritable()
        || reading == Reading.LINGERING
        || reading == Reading.UPGRADED;
  }

  /**
   * Closes the connection once the client has taken every response byte: Netty's close would drop
   * what is still queued, cutting a large last response short. A client that stops reading is cut
   * by the write timeout instead.
   *
   * @param afterResponse a response has just been written: linger, so that it reaches the client
   */
  void closeWhenFlushed(boolean afterResponse) {
    closing = true;
    lingers |= afterResponse;
    closeIfFlushed();
  }

  private void closeIfFlushed() {
    if (!closing
        || reading == Reading.REJECTED
        || reading == Reading.LINGERING
        || responseStarted // the write of its end calls back
        || !ctx.channel().isWritable()) { // the writability change calls back
      return;
    }
    if (pendingBytes() > 0) {
      if (!awaitingFlush && ctx.channel().isActive()) {
        // An empty write completes once everything queued before it is on the wire.
        awaitingFlush = true;
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER)
            .addListener(
                f -> {
                  awaitingFlush = false;
                  // Netty counts this write as pending until just after telling us.
                  if (f.isSuccess() && !responseStarted && reading != Reading.REJECTED) {
                    closeFlushed();
                  }
                });
      }
      return;
    }
    closeFlushed();
  }

  private void closeFlushed() {
    if (reading == Reading.LINGERING) {
      return;
    }
    if (open > 0 || !lingers) {
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
   * {@link #LINGER_MS} at most: as Go's server does. Input that arrives meanwhile is requests that
   * will not be answered.
   */
  private void linger() {
    read(Reading.LINGERING, false);
    cancel(timer);
    if (!(ctx.channel() instanceof DuplexChannel duplex)) {
      cut();
      return;
    }
    duplex.shutdownOutput();
    ctx.channel().config().setAutoRead(true);
    ctx.read();
    timer = ctx.executor().schedule(this::cut, LINGER_MS, TimeUnit.MILLISECONDS);
  }

  /**
   * Closes the connection at once, dropping what it has not sent, and reports the requests that
   * lost their answer: those read (pipelined, say) and not answered, and a response still queued.
   */
  void cut() {
    int lost =
        open
            + (pendingBytes() > 0 && !responseStarted ? 1 : 0)
            + (discardedInput ? 1 : 0)
            + (reading == Reading.UPGRADED ? 1 : 0); // the WebSocket's stream
    reject();
    // Below Vert.x, so that it closes now; after an upgrade the handshake has removed this decoder,
    // but the response watch is still in place.
    (ctx.isRemoved() ? ctx.pipeline().context(responses) : ctx).close();
    if (lost > 0) {
      onLost.accept(lost);
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
    super.handlerAdded(ctx);
    this.ctx = ctx;
    schedule();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    cancel(timer);
    cancel(stallCheck);
    super.channelInactive(ctx);
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) throws Exception {
    cancel(timer);
    cancel(stallCheck);
    super.handlerRemoved0(ctx);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out)
      throws Exception {
    if (reading == Reading.REJECTED || reading == Reading.REFUSED || reading == Reading.LINGERING) {
      if (reading == Reading.LINGERING && buffer.isReadable()) {
        discardedInput = true;
        lingerDiscarded += buffer.readableBytes();
        if (lingerDiscarded > MAX_LINGER_DISCARD) {
          // A client still uploading gets its answer as soon as it reads; not a free sink.
          buffer.skipBytes(buffer.readableBytes());
          cut();
          return;
        }
      }
      buffer.skipBytes(buffer.readableBytes());
      return;
    }
    if (!inHead
        && !inBody
        && buffer.isReadable()
        && buffer.getByte(buffer.readerIndex()) == TLS_HANDSHAKE) {
      buffer.skipBytes(buffer.readableBytes());
      answer(400, "TLS handshake on a plain HTTP port", "400 TLS on plain HTTP");
      return;
    }
    if (untouched && onHttp2 != null) {
      int preface = prefaceBytes(buffer);
      if (preface == HTTP2_PREFACE.length) {
        // Timers off, then the pipeline is HTTP/2's; removing the decoder passes the bytes on.
        read(Reading.REJECTED, false);
        onHttp2.accept(null);
        ctx.pipeline().remove(this);
        return;
      }
      if (preface > 0) {
        return; // so far the preface: wait for the rest, under the head timeout
      }
    }
    untouched = false;
    int from = out.size();
    super.decode(ctx, buffer, out);
    boolean newHead = false;
    for (int i = from; i < out.size(); i++) {
      Object message = out.get(i);
      if (message instanceof HttpMessage head) {
        newHead = true;
        inHead = false;
        inBody = true;
        firstRequest = false;
        open++;
        if (refusal == null && declaredLength(head) > maxBodyBytes) {
          refusal = new BadRequest(413, settings.limits().bodyTooLarge());
        }
        if (refusal != null) {
          // Set here: Netty replaces the decoder result once the head is complete. Vert.x answers
          // it with the invalid-request handler and closes; nothing after the head is read: not
          // its body, not a request smuggled behind it.
          head.setDecoderResult(DecoderResult.failure(refusal));
          refusal = null;
          out.subList(i + 1, out.size()).clear();
          buffer.skipBytes(buffer.readableBytes());
          read(Reading.REFUSED, false);
          return;
        }
        Http2Switch.Upgrade upgrade =
            onHttp2 != null && open == 1 && !closing && head instanceof HttpRequest request
                ? settings.http2().upgrade(request)
                : null;
        if (upgrade != null) {
          // The request and its (empty) end go to HTTP/2 as stream 1, after the 101.
          out.subList(i, out.size()).clear();
          read(Reading.REJECTED, false);
          ctx.writeAndFlush(Unpooled.wrappedBuffer(SWITCHING_TO_H2C));
          onHttp2.accept(upgrade);
          out.add(upgrade.request());
          ctx.pipeline().remove(this);
          return;
        }
      }
      if (message instanceof LastHttpContent) {
        inBody = false;
      }
    }
    // Bytes the decoder left unread, outside a body, are the start of the next head.
    read(
        inBody
            ? Reading.BODY
            : inHead || buffer.isReadable() ? Reading.HEAD : Reading.AWAITING_HEAD,
        newHead);
  }

  /** How many bytes the buffer holds, if all of them are the HTTP/2 preface's first; else 0. */
  private static int prefaceBytes(ByteBuf buffer) {
    int n = Math.min(buffer.readableBytes(), HTTP2_PREFACE.length);
    for (int i = 0; i < n; i++) {
      if (buffer.getByte(buffer.readerIndex() + i) != HTTP2_PREFACE[i]) {
        return 0;
      }
    }
    return n;
  }

  @Override
  protected HttpMessage createMessage(String[] initialLine) {
    HttpMessage message = super.createMessage(initialLine);
    inHead = true;
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

  /** The request's Content-Length; -1 if none (Netty has rejected one that is not a number). */
  private static long declaredLength(HttpMessage head) {
    String length = head.headers().get(HttpHeaderNames.CONTENT_LENGTH);
    if (length == null) {
      return -1;
    }
    try {
      return Long.parseLong(length.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
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

  /**
   * The one place {@link #reading} changes; a new head restarts the clock even in the same state.
   */
  private void read(Reading next, boolean newHead) {
    if (next != reading || newHead) {
      reading = next;
      readingSince = System.nanoTime();
      if (next == Reading.REJECTED || next == Reading.UPGRADED) {
        cancel(timer);
        cancel(stallCheck);
      } else {
        schedule();
      }
    }
  }

  /** When the current state times out, or {@code Long.MAX_VALUE}: the app is answering. */
  private long deadline() {
    long since = Math.max(readingSince, lastResponseEnd);
    return switch (reading) {
      case AWAITING_HEAD ->
          open == 0 ? since + (firstRequest ? headNanos : idleNanos) : Long.MAX_VALUE;
      case HEAD -> open == 0 ? since + headNanos : Long.MAX_VALUE;
      // While an earlier response is written Vert.x reads nothing more, so a body waits for it.
      case BODY -> open <= 1 ? since + bodyNanos : Long.MAX_VALUE;
      case REFUSED, LINGERING, REJECTED, UPGRADED -> Long.MAX_VALUE;
    };
  }

  /**
   * One timer per connection, rarely moved: it fires at the earliest deadline it was set for and
   * sets itself again for the current one if that is later.
   */
  private void schedule() {
    long at = deadline();
    if (at == Long.MAX_VALUE || ctx == null || (timer != null && timerAt <= at)) {
      return;
    }
    cancel(timer);
    timerAt = at;
    timer = ctx.executor().schedule(this::expire, Math.max(0, at - System.nanoTime()), NANOSECONDS);
  }

  private void expire() {
    timer = null;
    long at = deadline();
    if (at == Long.MAX_VALUE) {
      return;
    }
    if (System.nanoTime() < at) {
      schedule();
      return;
    }
    switch (reading) {
      case AWAITING_HEAD -> {
        // Keep-alive idle, or a connection that never sent a byte: nothing to answer.
        reject();
        ctx.close();
      }
      case HEAD ->
          answer(
              408,
              "request head not received within " + millis(headNanos) + " ms",
              "408 request head timeout");
      case BODY -> {
        if (open == 0 || responseStarted) {
          // Answered already (a route that reads no body), or mid-response: close, no more.
          settings.errors().record(Level.INFO, "request body timeout, closed", remote());
          cut();
        } else {
          answer(
              408,
              "request body not received within " + millis(bodyNanos) + " ms",
              "408 request body timeout");
        }
      }
      case REFUSED, LINGERING, REJECTED, UPGRADED -> {}
    }
  }

  /**
   * Answers with the template's JSON error and closes, written here below Vert.x: Vert.x has no
   * request for it (or will never finish reading the one it has). With a response of Vert.x's in
   * progress the connection is just cut, as bytes must not interleave.
   */
  private void answer(int status, String message, String kind) {
    settings.errors().record(Level.INFO, kind, remote());
    boolean canAnswer = !responseStarted && (open == 0 || (open == 1 && reading == Reading.BODY));
    reject();
    if (!canAnswer) {
      ctx.close();
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
    // From the decoder's place in the pipeline: raw bytes skip the response encoder.
    ctx.writeAndFlush(bytes).addListener(ChannelFutureListener.CLOSE);
  }

  private void reject() {
    read(Reading.REJECTED, false);
  }

  private String remote() {
    return String.valueOf(ctx.channel().remoteAddress());
  }

  private long pendingBytes() {
    ChannelOutboundBuffer buffer = ctx.channel().unsafe().outboundBuffer();
    return buffer == null ? 0 : buffer.totalPendingWriteBytes();
  }

  /**
   * While the channel is unwritable, checks four times per write timeout whether the client took
   * any bytes; none for the whole timeout cuts the connection. Netty's pending bytes only fall
   * while it is unwritable, as Vert.x queues further writes itself.
   */
  private void watchStall() {
    if (stallCheck != null || reading == Reading.REJECTED) {
      return;
    }
    stallProgressAt = System.nanoTime();
    stallPending = pendingBytes();
    stallCheck = ctx.executor().schedule(this::checkStall, writeNanos / 4, NANOSECONDS);
  }

  private void checkStall() {
    stallCheck = null;
    if (ctx.channel().isWritable()) {
      return;
    }
    long pending = pendingBytes();
    long now = System.nanoTime();
    if (pending < stallPending) {
      stallPending = pending;
      stallProgressAt = now;
    }
    if (now - stallProgressAt >= writeNanos) {
      settings
          .errors()
          .record(
              Level.INFO,
              "response cut: no write progress for " + millis(writeNanos) + " ms",
              remote());
      cut();
      return;
    }
    stallCheck = ctx.executor().schedule(this::checkStall, writeNanos / 4, NANOSECONDS);
  }

  private static void cancel(ScheduledFuture<?> future) {
    if (future != null) {
      future.cancel(false);
    }
  }

  private static long millis(long nanos) {
    return nanos / 1_000_000;
  }

  /** Sees each response go out, after the encoder: where one starts and ends. */
  private final class ResponseWatch extends ChannelDuplexHandler {

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (reading == Reading.REJECTED && msg instanceof HttpObject) {
        // The guard answered this connection itself; Vert.x's late response must not follow.
        ReferenceCountUtil.release(msg);
        promise.setFailure(new IllegalStateException("connection closed by its guard"));
        return;
      }
      if (msg instanceof HttpResponse response) {
        if (response.status().code() == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
          // The request is answered; what follows is no longer HTTP/1.
          open = 0;
          ConnectionGuard.this.read(Reading.UPGRADED, false);
          ctx.channel().closeFuture().addListener(f -> onUpgradedClose.run());
        } else if (response.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
          responseStarted = true;
        }
      }
      if (msg instanceof LastHttpContent && responseStarted) {
        responseStarted = false;
        answered = true;
        open = Math.max(0, open - 1);
        lastResponseEnd = System.nanoTime();
        schedule();
        if (closing) {
          promise = promise.unvoid();
          promise.addListener(f -> closeIfFlushed());
        }
      }
      ctx.write(msg, promise);
    }

    /**
     * Vert.x closes a connection right after writing its last response (a request without
     * keep-alive, a listener shutdown), which loses that response if the client has not read it by
     * then. Every close of Vert.x's waits for the flush and lingers instead.
     */
    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
      if (reading == Reading.REJECTED || reading == Reading.UPGRADED) {
        ctx.close(promise);
        return;
      }
      ctx.channel().closeFuture().addListener(f -> promise.trySuccess());
      closeWhenFlushed(answered);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (!ctx.channel().isWritable()) {
        watchStall();
      } else {
        closeIfFlushed();
      }
      ctx.fireChannelWritabilityChanged();
    }
  }
}
