package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 clients (prior knowledge) that misbehave, against the service as a process, written frame
 * by frame on raw sockets: the head and idle timeouts hold them as they hold HTTP/1.1 clients, a
 * stream opened while an idle connection is told to go is served, and a flood Netty cuts is one
 * short log line. One process serves every test here; none may put a stack trace in its log.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Http2HostileClientIT {

  static final int HEAD_TIMEOUT_MS = 2000;
  static final int IDLE_TIMEOUT_MS = 3000;
  static final int WRITE_TIMEOUT_MS = 1500;
  static final int BODY_TIMEOUT_MS = 2500;
  static final int GRACE_MS = 1000;
  static final int CONNECTIONS = 20;

  /** How long past a timeout a close may come on a loaded 2-core machine; generous on purpose. */
  static final int SLACK_MS = 5000;

  static final int DATA = 0x0;
  static final int HEADERS = 0x1;
  static final int SETTINGS = 0x4;
  static final int PING = 0x6;
  static final int WINDOW_UPDATE = 0x8;
  static final int GOAWAY = 0x7;
  static final int RST_STREAM = 0x3;
  static final int END_STREAM = 0x1;
  static final int END_HEADERS = 0x4;

  /** HPACK for :method GET, :scheme http, :path / (static table), then :authority "x". */
  static final byte[] GET_ROOT = {(byte) 0x82, (byte) 0x86, (byte) 0x84, 0x41, 0x01, 'x'};

  /** HPACK for :method POST, :scheme http, :path /upload, :authority "x". */
  static final byte[] POST_UPLOAD = {
    (byte) 0x83, (byte) 0x86, 0x44, 0x07, '/', 'u', 'p', 'l', 'o', 'a', 'd', 0x41, 0x01, 'x'
  };

  /**
   * {@link #POST_UPLOAD}, then content-length: 9999999 (a literal of the static table's name 28),
   * over the default HTTP_MAX_BODY_BYTES.
   */
  static final byte[] POST_UPLOAD_TOO_LARGE = {
    (byte) 0x83,
    (byte) 0x86,
    0x44,
    0x07,
    '/',
    'u',
    'p',
    'l',
    'o',
    'a',
    'd',
    0x41,
    0x01,
    'x',
    0x0f,
    0x0d,
    0x07,
    '9',
    '9',
    '9',
    '9',
    '9',
    '9',
    '9'
  };

  /** HPACK for :method POST, :scheme http, :path /early, :authority "x". */
  static final byte[] POST_EARLY = {
    (byte) 0x83, (byte) 0x86, 0x44, 0x06, '/', 'e', 'a', 'r', 'l', 'y', 0x41, 0x01, 'x'
  };

  @TempDir static Path dir;
  static ServiceProcess service;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    service =
        ServiceProcess.start(
                dir,
                Map.of(
                    "HTTP_HEAD_TIMEOUT_MS", "" + HEAD_TIMEOUT_MS,
                    "HTTP_IDLE_TIMEOUT_MS", "" + IDLE_TIMEOUT_MS,
                    "HTTP_WRITE_TIMEOUT_MS", "" + WRITE_TIMEOUT_MS,
                    "HTTP_BODY_TIMEOUT_MS", "" + BODY_TIMEOUT_MS,
                    "SHUTDOWN_IDLE_MS", "" + GRACE_MS))
            .quiet();
    port = service.port();
  }

  @AfterAll
  static void stop() throws Exception {
    service.sigterm();
    assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
    assertThat(service.output()).doesNotContain("\tat ").doesNotContain("SEVERE");
  }

  /** One raw HTTP/2 connection to a service on 127.0.0.1. */
  static final class H2 implements AutoCloseable {
    final Socket socket = new Socket();
    final DataInputStream in;
    final OutputStream out;

    H2(int port, int receiveBuffer) throws IOException {
      if (receiveBuffer > 0) {
        socket.setReceiveBufferSize(receiveBuffer);
      }
      socket.connect(new InetSocketAddress("127.0.0.1", port));
      socket.setSoTimeout(IDLE_TIMEOUT_MS + GRACE_MS + SLACK_MS);
      in = new DataInputStream(socket.getInputStream());
      out = socket.getOutputStream();
    }

    static H2 handshake() throws IOException {
      return handshake(port);
    }

    /** A connection to the service on {@code port} that has sent its preface and SETTINGS. */
    static H2 handshake(int port) throws IOException {
      H2 h2 = new H2(port, 0);
      h2.write(preface());
      h2.write(frame(SETTINGS, 0, 0, new byte[0]));
      return h2;
    }

    static byte[] preface() {
      return "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
    }

    void write(byte[] bytes) throws IOException {
      out.write(bytes);
      out.flush();
    }

    /** The next frame from the server, or null once it closed the connection. */
    Frame read() throws IOException {
      try {
        int length = in.readUnsignedByte() << 16 | in.readUnsignedShort();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int stream = in.readInt() & 0x7fffffff;
        byte[] payload = new byte[length];
        in.readFully(payload);
        return new Frame(type, flags, stream, payload);
      } catch (EOFException | java.net.SocketException closed) {
        return null;
      }
    }

    /** Reads until a frame of {@code type} on {@code stream}: that frame, or null if none came. */
    Frame readUntil(int type, int stream) throws IOException {
      Frame f;
      do {
        f = read();
      } while (f != null && !(f.type() == type && f.stream() == stream));
      return f;
    }

    /** Reads frames until the server closes; every frame it sent, in order. */
    List<Frame> readUntilClosed() throws IOException {
      List<Frame> frames = new ArrayList<>();
      for (Frame f = read(); f != null; f = read()) {
        frames.add(f);
      }
      return frames;
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  record Frame(int type, int flags, int stream, byte[] payload) {
    int goAwayLastStream() {
      return ByteBuffer.wrap(payload).getInt() & 0x7fffffff;
    }
  }

  static byte[] frame(int type, int flags, int stream, byte[] payload) {
    ByteBuffer frame = ByteBuffer.allocate(9 + payload.length);
    frame.put((byte) (payload.length >>> 16)).putShort((short) payload.length);
    frame.put((byte) type).put((byte) flags).putInt(stream).put(payload);
    return frame.array();
  }

  private static List<Integer> types(List<Frame> frames) {
    return frames.stream().map(Frame::type).toList();
  }

  private static void assertStillServing() throws Exception {
    try (RawHttp conn = new RawHttp("127.0.0.1", port, 10_000)) {
      assertThat(conn.get("/hello").status()).as("still serving").isEqualTo(200);
    }
  }

  /** Opens one connection and misbehaves on it. */
  private interface Misbehaviour {
    H2 open() throws Exception;
  }

  /** Milliseconds from {@code since} until each connection was closed by the server. */
  private static List<Long> closedAfter(List<H2> conns, long since) throws IOException {
    List<Long> ms = new ArrayList<>();
    for (H2 h2 : conns) {
      List<Frame> frames = h2.readUntilClosed();
      ms.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since));
      assertThat(types(frames)).as("a GOAWAY before the close").contains(GOAWAY);
      h2.close();
    }
    return ms;
  }

  /** {@code CONNECTIONS} connections, each misbehaving. */
  private static List<H2> open(Misbehaviour misbehaviour) throws Exception {
    List<H2> conns = new ArrayList<>();
    for (int i = 0; i < CONNECTIONS; i++) {
      conns.add(misbehaviour.open());
    }
    return conns;
  }

  @Test
  void silentConnectionsAfterTheirSettingsAreToldToGoAndClosedAfterTheIdleTimeout()
      throws Exception {
    long since = System.nanoTime();
    List<H2> conns = open(H2::handshake);

    List<Long> closed = closedAfter(conns, since);

    // Told to go at the idle timeout (GOAWAY + PING); closed after the grace, as no PING ack came.
    assertThat(closed)
        .allSatisfy(
            ms ->
                assertThat(ms)
                    .isBetween(
                        (long) IDLE_TIMEOUT_MS - 100,
                        (long) IDLE_TIMEOUT_MS + GRACE_MS + SLACK_MS));
    assertStillServing();
  }

  @Test
  void aStreamOpenedWhileAnIdleConnectionIsToldToGoIsServed() throws Exception {
    try (H2 h2 = H2.handshake()) {
      Frame first = h2.readUntil(GOAWAY, 0);
      assertThat(first).as("the first GOAWAY").isNotNull();
      assertThat(first.goAwayLastStream()).isEqualTo(Integer.MAX_VALUE);

      h2.write(frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_ROOT));
      List<Frame> rest = h2.readUntilClosed();

      assertThat(rest)
          .as("a response on stream 1 before the close")
          .anyMatch(f -> f.type() == HEADERS && f.stream() == 1);
      assertThat(rest).anyMatch(f -> f.type() == GOAWAY && f.goAwayLastStream() == 1);
    }
  }

  @Test
  void aHeaderBlockNeverEndedIsClosedWithAGoawayAtTheHeadTimeout() throws Exception {
    long since = System.nanoTime();
    List<H2> conns =
        open(
            () -> {
              H2 h2 = H2.handshake();
              // No END_HEADERS, and no CONTINUATION ever follows.
              h2.write(frame(HEADERS, END_STREAM, 1, GET_ROOT));
              return h2;
            });

    List<Long> closed = closedAfter(conns, since);

    assertThat(closed)
        .allSatisfy(
            ms ->
                assertThat(ms)
                    .isBetween((long) HEAD_TIMEOUT_MS - 100, (long) HEAD_TIMEOUT_MS + SLACK_MS));
    service
        .awaitLine(l -> l.contains("HTTP/2 request head timeout, closed"))
        .get(10, TimeUnit.SECONDS);
    assertStillServing();
  }

  @Test
  void aHeaderBlockTrickledAByteEvery300MsIsClosedAtTheHeadTimeout() throws Exception {
    List<H2> conns = open(H2::handshake);
    byte[] headers = frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_ROOT);
    long since = System.nanoTime();
    // The frame takes 15 × 300 ms = 4.5 s to send: past the head timeout, though every byte is
    // progress.
    int sent = 0;
    try {
      for (; sent < headers.length; sent++) {
        for (H2 h2 : conns) {
          h2.write(new byte[] {headers[sent]});
        }
        Thread.sleep(300);
      }
    } catch (IOException closedByServer) {
      // expected: the server closed before the frame was whole
    }

    List<Long> closed = closedAfter(conns, since);

    assertThat(sent).as("bytes sent before the close").isLessThan(headers.length);
    assertThat(closed)
        .allSatisfy(ms -> assertThat(ms).isLessThan((long) HEAD_TIMEOUT_MS + SLACK_MS));
    assertStillServing();
  }

  @Test
  void responsesAClosedFlowControlWindowHoldsAreClosedWithAGoawayAtTheWriteTimeout()
      throws Exception {
    try (H2 h2 = new H2(port, 0)) {
      h2.write(H2.preface());
      // SETTINGS_INITIAL_WINDOW_SIZE (0x4) = 0, and never a WINDOW_UPDATE: no DATA byte may go.
      h2.write(frame(SETTINGS, 0, 0, new byte[] {0, 4, 0, 0, 0, 0}));
      long since = System.nanoTime();
      for (int i = 0; i < 50; i++) {
        h2.write(frame(HEADERS, END_STREAM | END_HEADERS, 1 + 2 * i, GET_ROOT));
      }

      List<Frame> frames = h2.readUntilClosed();

      long closedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
      assertThat(types(frames)).contains(HEADERS, GOAWAY).doesNotContain(DATA);
      assertThat(closedMs)
          .isBetween((long) WRITE_TIMEOUT_MS - 100, (long) WRITE_TIMEOUT_MS + SLACK_MS);
    }
    // The client sees the close before the service's log line is read: wait for the line.
    service.awaitLine(l -> l.contains("HTTP/2 write timeout, closed")).get(10, TimeUnit.SECONDS);
    assertStillServing();
  }

  @Test
  void aResponseItsClientTakesSlowerThanTheWriteTimeoutIsWhole() throws Exception {
    int size = 100_000;
    byte[] path = ("/bytes?n=" + size).getBytes(StandardCharsets.ISO_8859_1);
    // :method GET, :scheme http, :path (a literal, its name indexed), :authority x.
    ByteArrayOutputStream get = new ByteArrayOutputStream();
    get.write(new byte[] {(byte) 0x82, (byte) 0x86, 0x04, (byte) path.length});
    get.write(path);
    get.write(new byte[] {0x41, 0x01, 'x'});
    try (H2 h2 = new H2(port, 0)) {
      h2.write(H2.preface());
      // The stream's window as large as can be: the connection's 65,535 bytes are all that go,
      // and then what each WINDOW_UPDATE for the connection gives, a third of the timeout apart.
      h2.write(
          frame(SETTINGS, 0, 0, new byte[] {0, 4, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff}));
      h2.write(frame(HEADERS, END_STREAM | END_HEADERS, 1, get.toByteArray()));
      long since = System.nanoTime();
      int received = 0;
      int given = 65_535;
      boolean ended = false;
      while (!ended) {
        Frame f = h2.read();
        assertThat(f).as("a frame, after %d bytes", received).isNotNull();
        assertThat(f.type()).as("no GOAWAY").isNotEqualTo(GOAWAY);
        if (f.type() == DATA && f.stream() == 1) {
          received += f.payload().length;
          ended = (f.flags() & END_STREAM) != 0;
          if (received == given && !ended) {
            Thread.sleep(WRITE_TIMEOUT_MS / 3); // the slow client this test is
            h2.write(frame(WINDOW_UPDATE, 0, 0, ByteBuffer.allocate(4).putInt(5_000).array()));
            given += 5_000;
          }
        }
      }

      assertThat(received).isEqualTo(size);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since))
          .as("it took longer than the write timeout")
          .isGreaterThan(2L * WRITE_TIMEOUT_MS);
    }
    assertStillServing();
  }

  @Test
  void aControlFrameFloodFromAClientThatDoesNotReadIsCutWithOneShortLogLine() throws Exception {
    byte[] ping = frame(PING, 0, 0, new byte[8]);
    byte[] pings = new byte[ping.length * 1000];
    for (int i = 0; i < 1000; i++) {
      System.arraycopy(ping, 0, pings, i * ping.length, ping.length);
    }
    try (H2 h2 = new H2(port, 4096)) {
      h2.write(H2.preface());
      h2.write(frame(SETTINGS, 0, 0, new byte[0]));
      boolean cut = false;
      // At most a million PINGs (17 MB); the server cuts the connection long before.
      for (int i = 0; i < 1000 && !cut; i++) {
        try {
          h2.write(pings);
        } catch (IOException e) {
          cut = true;
        }
      }
      assertThat(cut).as("the server cut the flood").isTrue();
    }
    service.awaitLine(l -> l.contains("outstanding control frames")).get(10, TimeUnit.SECONDS);
    assertThat(service.output())
        .contains(
            "HTTP/2 connection error: Http2Exception: Maximum number 10000 of outstanding control frames reached");
    assertStillServing();
  }

  @Test
  void aRequestBodyNeverEndedHasItsStreamResetAtTheBodyTimeoutAndTheConnectionServesOn()
      throws Exception {
    try (H2 h2 = H2.handshake()) {
      long since = System.nanoTime();
      h2.write(frame(HEADERS, END_HEADERS, 1, POST_UPLOAD));
      h2.write(frame(DATA, 0, 1, new byte[10])); // and never the rest, nor END_STREAM

      Frame reset = h2.readUntil(RST_STREAM, 1);
      long resetMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);

      assertThat(reset).as("stream 1 reset").isNotNull();
      assertThat(resetMs)
          .isBetween((long) BODY_TIMEOUT_MS - 100, (long) BODY_TIMEOUT_MS + SLACK_MS);
      assertAnotherStreamIsAnswered(h2);
    }
    service
        .awaitLine(l -> l.contains("HTTP/2 request body timeout, stream reset"))
        .get(10, TimeUnit.SECONDS);
  }

  @Test
  void aDeclaredBodyOverTheLimitIsAnswered413AndItsStreamResetWithNoError() throws Exception {
    try (H2 h2 = H2.handshake()) {
      List<Frame> stream1 = sendTooLarge(h2, 1);
      assertThat(types(stream1)).containsExactly(HEADERS, DATA, RST_STREAM);
      assertThat(new String(stream1.get(1).payload(), StandardCharsets.UTF_8))
          .contains("{\"error\":\"request body larger than 1048576 bytes\"}");
      assertThat(stream1.get(1).flags() & END_STREAM).as("the answer ends its side").isNotZero();
      assertThat(ByteBuffer.wrap(stream1.get(2).payload()).getInt()).as("NO_ERROR").isZero();

      assertAnotherStreamIsAnswered(h2);
    }
    service
        .awaitLine(l -> l.contains("413 request body larger than 1048576 bytes"))
        .get(10, TimeUnit.SECONDS);
  }

  @Test
  void aStreamAnswered413AndResetDuringTheDrainCountsDrained(@TempDir Path own) throws Exception {
    try (ServiceProcess draining =
        ServiceProcess.start(own, Map.of("SHUTDOWN_DELAY_MS", "2000")).quiet()) {
      int drainingPort = draining.port();
      CompletableFuture<String> began = draining.awaitLine(l -> l.contains("shutdown began"));
      draining.sigterm();
      began.get(10, TimeUnit.SECONDS);
      try (H2 h2 = H2.handshake(drainingPort)) {
        assertThat(types(sendTooLarge(h2, 1))).containsExactly(HEADERS, DATA, RST_STREAM);
      }
      // The reset came after the answer's last frame: nothing of it was lost.
      assertThat(draining.awaitExit(Duration.ofSeconds(30))).isZero();
      assertThat(draining.output()).contains("1 request drained, 0 aborted; exit 0");
    }
  }

  /** Opens stream 3 with a GET: the connection still serves. */
  private static void assertAnotherStreamIsAnswered(H2 h2) throws IOException {
    h2.write(frame(HEADERS, END_STREAM | END_HEADERS, 3, GET_ROOT));
    assertThat(h2.readUntil(HEADERS, 3)).as("stream 3 answered on the same connection").isNotNull();
  }

  /**
   * Opens {@code stream} with {@link #POST_UPLOAD_TOO_LARGE} and a first piece of its body, and
   * reads until that stream is reset: its frames, in order.
   */
  private static List<Frame> sendTooLarge(H2 h2, int stream) throws IOException {
    h2.write(frame(HEADERS, END_HEADERS, stream, POST_UPLOAD_TOO_LARGE));
    h2.write(frame(DATA, 0, stream, new byte[10]));
    List<Frame> frames = new ArrayList<>();
    for (Frame f = h2.read(); f != null; f = h2.read()) {
      if (f.stream() == stream) {
        frames.add(f);
        if (f.type() == RST_STREAM) {
          break;
        }
      }
    }
    return frames;
  }

  @Test
  void aStreamAnsweredWhileItsBodyStillComesCountsDrainedAtTheDeadline(@TempDir Path own)
      throws Exception {
    try (ServiceProcess draining =
        ServiceProcess.start(own, Map.of("SHUTDOWN_TIMEOUT_MS", "2000")).quiet()) {
      try (H2 h2 = H2.handshake(draining.port())) {
        h2.write(frame(HEADERS, END_HEADERS, 1, POST_EARLY));
        h2.write(frame(DATA, 0, 1, new byte[10])); // and never the rest, nor END_STREAM
        Frame answer = h2.readUntil(DATA, 1);
        assertThat(answer).as("the answer").isNotNull();
        assertThat(answer.flags() & END_STREAM).isNotZero();

        // The stream stays open on the client's side through the drain, until the deadline.
        draining.sigterm();
        assertThat(draining.awaitExit(Duration.ofSeconds(30))).isZero();
      }
      assertThat(draining.output()).contains("1 request drained, 0 aborted; exit 0");
    }
  }
}
