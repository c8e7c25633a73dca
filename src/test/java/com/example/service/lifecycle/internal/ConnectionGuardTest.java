package com.example.service.lifecycle.internal;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.example.service.lifecycle.HttpLimits;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP/1.1 guard's handlers in a pipeline shaped as Vert.x's (decoder, encoder, handler), fed
 * bytes by the test, on a clock the test moves.
 */
class ConnectionGuardTest {

  private static final long HEAD_MS = 2_000;
  private static final long IDLE_MS = 3_000;
  private static final long BODY_MS = 4_000;
  private static final long WRITE_MS = 1_500;
  private static final int MAX_BODY = 100;

  private static Vertx vertx;

  private final List<HttpObject> received = new ArrayList<>();
  private final AtomicInteger lost = new AtomicInteger();
  private final AtomicInteger ended = new AtomicInteger();
  private final AtomicInteger passedOn = new AtomicInteger();
  private final List<String> switched = new ArrayList<>();
  private EmbeddedChannel channel;
  private ChannelHandlerContext app;
  private ConnectionGuard guard;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx(); // for the client-error log's rate limit only
  }

  @AfterAll
  static void stop() {
    vertx.close().await();
  }

  @BeforeEach
  void connect() {
    channel = new EmbeddedChannel();
    channel.freezeTime();
    channel
        .pipeline()
        .addLast(Internals.DECODER, new ChannelInboundHandlerAdapter())
        .addLast(Internals.ENCODER, new HttpResponseEncoder())
        .addLast(
            Internals.HANDLER,
            new ChannelInboundHandlerAdapter() {
              @Override
              public void handlerAdded(ChannelHandlerContext ctx) {
                app = ctx;
              }

              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof HttpObject http) {
                  received.add(http);
                } else {
                  passedOn.addAndGet(((ByteBuf) msg).readableBytes());
                }
                ReferenceCountUtil.release(msg);
              }
            });
    HttpLimits limits =
        new HttpLimits(
            Duration.ofMillis(HEAD_MS),
            Duration.ofMillis(IDLE_MS),
            Duration.ZERO,
            Duration.ofMillis(BODY_MS),
            Duration.ofMillis(WRITE_MS),
            8192,
            4096,
            MAX_BODY,
            100);
    HttpServerOptions options = new HttpServerOptions();
    Http2Switch http2 = new Http2Switch(null, null, options, null, null, false, null);
    guard =
        ConnectionGuard.install(
            channel.pipeline(),
            new ConnectionGuard.Settings(options, limits, new ClientErrors(vertx), http2),
            new ConnectionGuard.Events() {
              @Override
              public void responseEnded() {
                ended.incrementAndGet();
              }

              @Override
              public void lost(int requests) {
                lost.addAndGet(requests);
              }

              @Override
              public void http2(Http2Switch.Upgrade upgrade) {
                switched.add(upgrade == null ? "preface" : "upgrade");
              }

              @Override
              public void upgradedClosed() {}
            });
  }

  private void send(String text) {
    channel.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
  }

  private void advance(long ms) {
    channel.advanceTimeBy(ms, MILLISECONDS);
    channel.runScheduledPendingTasks();
    channel.runPendingTasks();
  }

  /** Everything the server wrote, as text. */
  private String written() {
    StringBuilder all = new StringBuilder();
    for (ByteBuf out = channel.readOutbound(); out != null; out = channel.readOutbound()) {
      all.append(out.toString(StandardCharsets.ISO_8859_1));
      out.release();
    }
    return all.toString();
  }

  private void respond(int bodyBytes, boolean flush) {
    DefaultFullHttpResponse response =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            HttpResponseStatus.OK,
            Unpooled.wrappedBuffer(new byte[bodyBytes]));
    response.headers().set(HttpHeaderNames.CONTENT_LENGTH, bodyBytes);
    if (flush) {
      app.writeAndFlush(response);
    } else {
      app.write(response);
    }
  }

  @Test
  void aConnectionThatSendsNothingIsClosedSilentlyAtTheHeadTimeout() {
    advance(HEAD_MS - 1);
    assertThat(channel.isOpen()).isTrue();

    advance(1);

    assertThat(channel.isOpen()).isFalse();
    assertThat(written()).isEmpty();
  }

  @Test
  void aHeadTrickledByteByByteIsAnswered408AtTheHeadTimeoutFromItsFirstByte() {
    for (char c : "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ".toCharArray()) {
      send(String.valueOf(c));
      advance(40); // 34 bytes: 1360 ms, each byte well within any per-read timeout
    }
    assertThat(channel.isOpen()).isTrue();

    advance(HEAD_MS);

    assertThat(written())
        .startsWith("HTTP/1.1 408 Request Timeout\r\n")
        .contains("connection: close")
        .endsWith("{\"error\":\"request head not received within 2000 ms\"}");
    assertThat(channel.isOpen()).isFalse();
    assertThat(received).isEmpty();
  }

  @Test
  void aKeepAliveConnectionIsClosedAtTheIdleTimeoutAfterItsLastResponse() {
    send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(received.get(0)).isInstanceOf(HttpRequest.class);
    advance(IDLE_MS * 2); // the app takes its time: no timeout runs while it answers
    respond(5, true);
    assertThat(written()).startsWith("HTTP/1.1 200 OK");

    advance(IDLE_MS - 1);
    assertThat(channel.isOpen()).isTrue();
    advance(1);

    assertThat(channel.isOpen()).isFalse();
    assertThat(lost).hasValue(0);
  }

  @Test
  void aPipelinedHeadStartedWhileTheAppAnswersGetsTheHeadTimeoutFromThatResponsesEnd() {
    send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHo");
    advance(HEAD_MS * 2); // the app takes its time: the half head waits behind its response
    respond(5, true);
    assertThat(written()).startsWith("HTTP/1.1 200 OK");

    advance(HEAD_MS - 1);
    assertThat(channel.isOpen()).isTrue();
    advance(1);

    assertThat(written()).startsWith("HTTP/1.1 408 Request Timeout\r\n");
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void aBodyThatStopsIsAnswered408AtTheBodyTimeoutFromItsHead() {
    send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n123");
    advance(BODY_MS - 1);
    assertThat(channel.isOpen()).isTrue();

    advance(1);

    assertThat(written())
        .startsWith("HTTP/1.1 408 Request Timeout\r\n")
        .endsWith("{\"error\":\"request body not received within 4000 ms\"}");
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void aDeclaredBodyOverTheLimitIsRefused413AndNothingAfterItsHeadIsRead() {
    send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n");

    assertThat(received).hasSize(1);
    HttpRequest request = (HttpRequest) received.get(0);
    assertThat(request.decoderResult().cause())
        .isInstanceOfSatisfying(
            Http1Decoder.BadRequest.class, bad -> assertThat(bad.status).isEqualTo(413));
    send("GET /later HTTP/1.1\r\n\r\n");
    assertThat(received).hasSize(1);
  }

  @Test
  void contentLengthWithTransferEncodingIsRefused400() {
    send(
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");

    HttpRequest request = (HttpRequest) received.get(0);
    assertThat(request.decoderResult().cause())
        .isInstanceOfSatisfying(
            Http1Decoder.BadRequest.class, bad -> assertThat(bad.status).isEqualTo(400));
  }

  @Test
  void anUnknownHttpVersionIsRefused505InHttp11() {
    send("GET / HTTP/1.7\r\nHost: a\r\n\r\n");

    HttpRequest request = (HttpRequest) received.get(0);
    assertThat(request.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
    assertThat(request.decoderResult().cause())
        .isInstanceOfSatisfying(
            Http1Decoder.BadRequest.class, bad -> assertThat(bad.status).isEqualTo(505));
  }

  @Test
  void aTlsHandshakeIsAnswered400AndClosed() {
    channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {0x16, 0x03, 0x01, 0x00, 0x05}));

    assertThat(written())
        .startsWith("HTTP/1.1 400 Bad Request\r\n")
        .endsWith("{\"error\":\"TLS handshake on a plain HTTP port\"}");
    assertThat(channel.isOpen()).isFalse();
    assertThat(received).isEmpty();
  }

  @Test
  void thePrefaceSwitchesToHttp2EvenSplitAndPassesItsBytesOn() {
    ByteBuf preface = Http2CodecUtil.connectionPrefaceBuf();
    channel.writeInbound(preface.readRetainedSlice(5));
    assertThat(switched).isEmpty();

    channel.writeInbound(preface);

    assertThat(switched).containsExactly("preface");
    assertThat(channel.pipeline().get(ProtocolSniffer.NAME)).isNull();
    assertThat(channel.pipeline().get(Http1Decoder.class)).isNull();
    // The test's handler now stands where HTTP/2's would: it got the preface's bytes, unparsed.
    assertThat(passedOn).hasValue(Http2CodecUtil.connectionPrefaceBuf().readableBytes());
    assertThat(received).isEmpty();
    advance(HEAD_MS * 10); // the HTTP/1 timers are off: HTTP/2 has its own
    assertThat(channel.isOpen()).isTrue();
  }

  @Test
  void aRequestStartingWithPIsHttp1() {
    send("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");

    assertThat(switched).isEmpty();
    assertThat(((HttpRequest) received.get(0)).method().name()).isEqualTo("PUT");
  }

  @Test
  void aClientThatTakesNoBytesForTheWriteTimeoutIsCutAndItsResponseCountedLost() {
    channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8, 16));
    send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    respond(1000, false); // queued, not flushed: as to a client that does not read
    assertThat(channel.isWritable()).isFalse();

    advance(WRITE_MS - 1);
    assertThat(channel.isOpen()).isTrue();
    advance(WRITE_MS / 4 + 1);

    assertThat(channel.isOpen()).isFalse();
    assertThat(lost).hasValue(1);
  }

  @Test
  void closeWhenFlushedWaitsForTheQueuedResponse() {
    send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    respond(10, false);

    guard.closeWhenFlushed(false);

    // The empty write that follows the response flushes it; only then does the channel close.
    assertThat(written()).startsWith("HTTP/1.1 200 OK");
    assertThat(channel.isOpen()).isFalse();
    assertThat(lost).hasValue(0);
  }

  @Test
  void eachResponseEndIsReportedOnceItsLastPartIsQueuedAndNoInterimResponseCounts() {
    send("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n");
    app.write(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    app.write(head);
    app.write(new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[3])));
    assertThat(ended).hasValue(0);

    app.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    assertThat(ended).hasValue(1);
    send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    respond(5, true);

    assertThat(ended).hasValue(2);
    assertThat(written()).contains("100 Continue").endsWith("\r\n\r\n\0\0\0\0\0");
  }

  @Test
  void pipelinedRequestsNeverAnsweredAreCountedWhenTheConnectionIsCut() {
    send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n");

    guard.cut();

    assertThat(channel.isOpen()).isFalse();
    assertThat(lost).hasValue(2);
  }
}
