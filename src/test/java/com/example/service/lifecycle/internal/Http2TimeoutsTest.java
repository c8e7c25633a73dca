package com.example.service.lifecycle.internal;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Stream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Http2Timeouts} on Netty's own HTTP/2 server codec, fed frames byte by byte where it
 * matters, on a clock the test moves.
 */
class Http2TimeoutsTest {

  private static final long HEAD_MS = 2_000;
  private static final long WRITE_MS = 1_500;
  private static final long IDLE_MS = 3_000;
  private static final long BODY_MS = 4_000;

  private static final int DATA = 0x0;
  private static final int HEADERS = 0x1;
  private static final int SETTINGS = 0x4;
  private static final int GOAWAY = 0x7;
  private static final int RST_STREAM = 0x3;
  private static final int CONTINUATION = 0x9;
  private static final int WINDOW_UPDATE = 0x8;
  private static final int END_STREAM = 0x1;
  private static final int END_HEADERS = 0x4;

  /** HPACK for :method GET, :scheme http, :path / (static table indexes 2, 6, 4). */
  private static final byte[] GET_ROOT = {(byte) 0x82, (byte) 0x86, (byte) 0x84};

  private final List<String> errors = new ArrayList<>();
  private final AtomicInteger idles = new AtomicInteger();
  private EmbeddedChannel channel;
  private Http2ConnectionHandler codec;

  @BeforeEach
  void connect() {
    codec =
        new Http2ConnectionHandlerBuilder()
            .server(true)
            .frameListener(new Http2FrameAdapter())
            .build();
    channel = new EmbeddedChannel();
    channel.freezeTime();
    channel.pipeline().addLast("handler", codec);
    Http2Timeouts timeouts =
        new Http2Timeouts(
            MILLISECONDS.toNanos(HEAD_MS),
            MILLISECONDS.toNanos(BODY_MS),
            MILLISECONDS.toNanos(WRITE_MS),
            MILLISECONDS.toNanos(IDLE_MS),
            (kind, client) -> errors.add(kind));
    timeouts.onIdle(idles::incrementAndGet);
    timeouts.install(channel.pipeline().context(codec));
  }

  private static ByteBuf frame(int type, int flags, int stream, byte[] payload) {
    ByteBuf frame = Unpooled.buffer(9 + payload.length);
    frame.writeMedium(payload.length).writeByte(type).writeByte(flags).writeInt(stream);
    return frame.writeBytes(payload);
  }

  private static ByteBuf handshake() {
    return handshake(new byte[0]);
  }

  private static ByteBuf handshake(byte[] settings) {
    return Unpooled.wrappedBuffer(
        Http2CodecUtil.connectionPrefaceBuf(), frame(SETTINGS, 0, 0, settings));
  }

  /** Answers stream 1 as a route would: headers, then a body that ends the stream. */
  private void respond(int bodyBytes) {
    ChannelHandlerContext ctx = channel.pipeline().context(codec);
    codec
        .encoder()
        .writeHeaders(ctx, 1, new DefaultHttp2Headers().status("200"), 0, false, ctx.newPromise());
    codec
        .encoder()
        .writeData(ctx, 1, Unpooled.wrappedBuffer(new byte[bodyBytes]), 0, true, ctx.newPromise());
    codec.flush(ctx);
  }

  private void send(ByteBuf bytes) {
    channel.writeInbound(bytes);
  }

  /** Sends {@code bytes} one at a time, {@code everyMs} apart. */
  private void trickle(ByteBuf bytes, long everyMs) {
    while (bytes.isReadable() && channel.isOpen()) {
      send(bytes.readRetainedSlice(1));
      advance(everyMs);
    }
    bytes.release();
  }

  private void advance(long ms) {
    channel.advanceTimeBy(ms, MILLISECONDS);
    channel.runScheduledPendingTasks();
    channel.runPendingTasks();
  }

  private static ByteBuf windowUpdate(int stream, int increment) {
    return frame(WINDOW_UPDATE, 0, stream, Unpooled.buffer(4).writeInt(increment).array());
  }

  /** The type of every frame the server wrote, in order (a frame may span several buffers). */
  private List<Integer> framesWritten() {
    ByteBuf all = Unpooled.buffer();
    for (ByteBuf out = channel.readOutbound(); out != null; out = channel.readOutbound()) {
      all.writeBytes(out);
      out.release();
    }
    List<Integer> types = new ArrayList<>();
    while (all.readableBytes() >= 9) {
      int length = all.readUnsignedMedium();
      types.add((int) all.readUnsignedByte());
      all.skipBytes(5 + length);
    }
    return types;
  }

  @Test
  void aHandshakeThatStopsAfterThePrefaceIsClosedAtTheHeadTimeout() {
    send(Unpooled.wrappedBuffer(Http2CodecUtil.connectionPrefaceBuf()));
    advance(HEAD_MS - 1);
    assertThat(channel.isOpen()).isTrue();

    advance(1);

    assertThat(channel.isOpen()).isFalse();
    assertThat(errors).containsExactly("HTTP/2 preface and SETTINGS timeout, closed");
  }

  @Test
  void aCompleteHandshakeIsNotTimedOut() {
    send(handshake());
    advance(HEAD_MS * 2 - IDLE_MS / 2);
    assertThat(channel.isOpen()).isTrue();
    assertThat(errors).isEmpty();
  }

  @Test
  void aHeaderBlockWithoutItsEndIsClosedWithAGoawayAtTheHeadTimeout() {
    send(handshake());
    framesWritten();
    send(frame(HEADERS, END_STREAM, 1, GET_ROOT)); // no END_HEADERS, and no CONTINUATION follows
    advance(HEAD_MS - 1);
    assertThat(channel.isOpen()).isTrue();

    advance(1);

    assertThat(framesWritten()).contains(GOAWAY);
    assertThat(channel.isOpen()).isFalse();
    assertThat(errors).containsExactly("HTTP/2 request head timeout, closed");
  }

  @Test
  void aHeaderBlockTrickledAByteAtATimeIsTimedOutFromItsFirstByte() {
    send(handshake());
    // Each byte is progress, as each is to a read-idle timeout; the block as a whole is late.
    trickle(frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_ROOT), 300);

    assertThat(channel.isOpen()).isFalse();
    assertThat(errors).containsExactly("HTTP/2 request head timeout, closed");
  }

  @Test
  void aFrameHeaderTrickledAByteAtATimeIsTimedOutFromItsFirstByte() {
    send(handshake());
    // Not even the 9-byte frame header is whole before the head timeout.
    ByteBuf headers = frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_ROOT);
    advance(HEAD_MS / 2);
    int sent = 0;
    for (; sent < 9 && channel.isOpen(); sent++) {
      send(headers.readRetainedSlice(1));
      advance(HEAD_MS / 4);
    }
    headers.release();

    assertThat(channel.isOpen()).isFalse();
    assertThat(sent).as("header bytes sent before the close").isEqualTo(4);
    assertThat(errors).containsExactly("HTTP/2 request head timeout, closed");
  }

  @Test
  void theIdleTimeoutStillComesWhenAFrameHeaderIsHalfReceivedAtItsDeadline() {
    send(handshake());
    ByteBuf ping = frame(0x6, 0, 0, new byte[8]);
    advance(IDLE_MS - 1);
    send(ping.readRetainedSlice(1)); // a frame header begins just before the idle deadline

    advance(1);
    send(ping); // and ends just after it

    assertThat(idles).hasValue(1);
  }

  @Test
  void framesArrivingSteadilyAreNotTimedOut() {
    send(handshake());
    for (int i = 0; i < 20; i++) {
      send(frame(0x6, 0, 0, new byte[8])); // PING
      advance(HEAD_MS / 2);
    }
    assertThat(channel.isOpen()).isTrue();
    assertThat(errors).isEmpty();
  }

  @Test
  void aHeaderBlockEndedByItsContinuationInTimeOpensAStream() {
    send(handshake());
    send(frame(HEADERS, END_STREAM, 1, new byte[] {(byte) 0x82}));
    advance(HEAD_MS / 2);
    send(frame(CONTINUATION, END_HEADERS, 1, new byte[] {(byte) 0x86, (byte) 0x84}));
    advance(HEAD_MS);

    assertThat(channel.isOpen()).isTrue();
    assertThat(errors).isEmpty();
    assertThat(codec.connection().numActiveStreams()).isEqualTo(1);
  }

  @Test
  void aResponseAClosedFlowControlWindowHoldsIsClosedWithAGoawayAtTheWriteTimeout() {
    // SETTINGS_INITIAL_WINDOW_SIZE (0x4) = 0: no DATA byte may go.
    send(handshake(new byte[] {0, 4, 0, 0, 0, 0}));
    send(frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_ROOT));
    respond(100);
    framesWritten();
    advance(WRITE_MS - 1);
    assertThat(channel.isOpen()).isTrue();

    // Checked every quarter of the timeout: closed within a quarter after it passed.
    advance(WRITE_MS / 4);

    assertThat(framesWritten()).contains(GOAWAY).doesNotContain(DATA);
    assertThat(channel.isOpen()).isFalse();
    assertThat(errors).containsExactly("HTTP/2 write timeout, closed");
  }

  @Test
  void aResponseTheClientTakesIsNotTimedOut() {
    send(handshake());
    send(frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_ROOT));
    respond(100);

    assertThat(framesWritten()).contains(DATA);
    advance(WRITE_MS * 2);
    assertThat(channel.isOpen()).isTrue();
    assertThat(errors).isEmpty();
  }

  @Test
  void windowTheClientGivesTheConnectionButNotTheStreamIsNoProgress() {
    // Streams start with no window: the connection's updates alone let no DATA byte go.
    send(handshake(new byte[] {0, 4, 0, 0, 0, 0}));
    send(frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_ROOT));
    respond(100);
    for (int i = 0; i < 7; i++) {
      send(windowUpdate(0, 1_000));
      advance(WRITE_MS / 8);
    }
    assertThat(channel.isOpen()).isTrue();

    // Checked every quarter of the timeout: closed within a quarter after it passed.
    send(windowUpdate(0, 1_000));
    advance(WRITE_MS / 2);

    assertThat(framesWritten()).contains(GOAWAY).doesNotContain(DATA);
    assertThat(errors).containsExactly("HTTP/2 write timeout, closed");
  }

  @Test
  void aResponseTheClientTakesSlowerThanTheTimeoutIsNotTimedOut() {
    // Ten bytes of the stream's window every quarter of the timeout: 100 bytes in 2.5 timeouts.
    send(handshake(new byte[] {0, 4, 0, 0, 0, 0}));
    send(frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_ROOT));
    respond(100);
    for (int i = 0; i < 10; i++) {
      advance(WRITE_MS / 4);
      send(windowUpdate(1, 10));
    }
    advance(WRITE_MS / 4);

    assertThat(framesWritten()).contains(DATA).doesNotContain(GOAWAY);
    assertThat(codec.connection().numActiveStreams()).isZero();
    assertThat(errors).isEmpty();
  }

  @Test
  void theConnectionsUpdatesAreCountedHoweverTheirBytesAreSplit() {
    // More than the connection's 65,535-byte window: the rest waits on it.
    send(handshake());
    send(frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_ROOT));
    respond(70_000);
    for (int i = 0; i < 12 && channel.isOpen(); i++) {
      advance(WRITE_MS / 4);
      // A byte a read: the frame's header and its increment arrive in pieces.
      trickle(windowUpdate(0, 500), 0);
      send(windowUpdate(1, 500));
    }

    assertThat(errors).isEmpty();
    assertThat(channel.isOpen()).isTrue();
  }

  @Test
  void aBodyUploadedSlowlyToAClientWithNoWindowForResponsesIsNotCutAtTheWriteTimeout() {
    // No window for the server's DATA, but no response begun either: nothing waits on the client.
    send(handshake(new byte[] {0, 4, 0, 0, 0, 0}));
    send(frame(HEADERS, END_HEADERS, 1, GET_ROOT));
    // 3.75 s: past the write timeout, within the body timeout.
    for (int i = 0; i < 5 && channel.isOpen(); i++) {
      send(frame(DATA, 0, 1, new byte[] {'x'}));
      advance(WRITE_MS / 2);
    }

    assertThat(errors).isEmpty();
    assertThat(channel.isOpen()).isTrue();
  }

  @Test
  void aConnectionWithNoOpenStreamIsToldToGoAfterTheIdleTimeout() {
    send(handshake());
    advance(IDLE_MS - 1);
    assertThat(idles).hasValue(0);

    advance(1);

    assertThat(idles).hasValue(1);
    advance(IDLE_MS * 2);
    assertThat(idles).as("once").hasValue(1);
  }

  @Test
  void anOpenStreamKeepsTheConnectionFromIdlingAndTheIdleTimeCountsFromItsClose() {
    send(handshake());
    send(frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_ROOT));
    advance(IDLE_MS * 2);
    assertThat(idles).hasValue(0);

    Http2Stream stream = codec.connection().stream(1);
    stream.close();
    advance(IDLE_MS - 1);
    assertThat(idles).hasValue(0);
    advance(1);

    assertThat(idles).hasValue(1);
    assertThat(errors).isEmpty();
  }

  @Test
  void aHeaderBlockThatOpensNoStreamLeavesTheIdleTimeCountingFromTheLastClose() {
    send(handshake());
    send(frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_ROOT));
    codec.connection().stream(1).close();
    advance(IDLE_MS / 2);
    // Stream 1 again: closed, so the codec resets it and opens none.
    send(frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_ROOT));
    assertThat(framesWritten()).contains(RST_STREAM);
    assertThat(codec.connection().numActiveStreams()).isZero();
    advance(IDLE_MS / 2 - 1);
    assertThat(idles).hasValue(0);

    advance(1);

    assertThat(idles).hasValue(1);
    assertThat(errors).isEmpty();
  }

  @Test
  void theLastStreamClosingDuringAHeaderBlockStartsTheIdleTime() {
    send(handshake());
    send(frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_ROOT));
    send(frame(HEADERS, END_STREAM | END_HEADERS, 3, GET_ROOT));
    codec.connection().stream(3).close();
    advance(1_000);
    // A block on closed stream 3, which opens none; stream 1 closes while it is in progress.
    send(frame(HEADERS, END_STREAM, 3, GET_ROOT));
    advance(500);
    codec.connection().stream(1).close();
    advance(500);
    send(frame(CONTINUATION, END_HEADERS, 3, new byte[0]));
    assertThat(codec.connection().numActiveStreams()).isZero();
    advance(IDLE_MS - 500 - 1);
    assertThat(idles).hasValue(0);

    advance(1);

    assertThat(idles).hasValue(1);
    assertThat(errors).isEmpty();
  }

  @Test
  void aHeaderBlockAcrossTheIdleDeadlineThatOpensNoStreamDoesNotPutItOff() {
    send(handshake());
    send(frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_ROOT));
    codec.connection().stream(1).close();
    advance(IDLE_MS - 500);
    send(frame(HEADERS, END_STREAM, 1, GET_ROOT)); // closed stream 1 again, across the deadline
    advance(1_000);
    assertThat(idles).as("not during the block").hasValue(0);

    send(frame(CONTINUATION, END_HEADERS, 1, new byte[0]));
    advance(1);

    assertThat(idles).hasValue(1);
    assertThat(errors).isEmpty();
  }

  @Test
  void aClosedConnectionSetsNoTimerAgain() {
    send(handshake());
    send(frame(HEADERS, END_HEADERS, 1, GET_ROOT)); // a body follows: the body timer runs
    channel.close();
    advance(Math.max(IDLE_MS, BODY_MS) * 2);

    assertThat(idles).hasValue(0);
    assertThat(errors).isEmpty();
  }

  @Test
  void aBodyNotEndedWithinTheBodyTimeoutHasItsStreamResetAndTheConnectionGoesOn() {
    send(handshake());
    send(frame(HEADERS, END_HEADERS, 1, GET_ROOT)); // a body follows
    send(frame(DATA, 0, 1, new byte[10]));
    advance(BODY_MS / 2);
    send(frame(HEADERS, END_HEADERS, 3, GET_ROOT));
    framesWritten();
    advance(BODY_MS / 2 - 1);
    assertThat(framesWritten()).doesNotContain(RST_STREAM);

    advance(1);

    assertThat(framesWritten()).containsExactly(RST_STREAM);
    assertThat(codec.connection().stream(1)).isNull();
    assertThat(codec.connection().stream(3).state().remoteSideOpen()).isTrue();
    assertThat(channel.isOpen()).isTrue();
    assertThat(errors).containsExactly("HTTP/2 request body timeout, stream reset");

    send(frame(DATA, END_STREAM, 3, new byte[10])); // stream 3's body ends in time
    advance(BODY_MS);
    assertThat(framesWritten()).doesNotContain(RST_STREAM);
  }

  @Test
  void aStreamWhoseRequestEndsWithItsHeadersHasNoBodyTimeout() {
    send(handshake());
    send(frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_ROOT));
    framesWritten();
    advance(BODY_MS * 2);

    assertThat(framesWritten()).doesNotContain(RST_STREAM);
    assertThat(errors).isEmpty();
  }
}
