package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SIGTERM while clients misbehave: none of them holds the exit, and the summary tells the truth.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class HostileShutdownIT {

  private static final Pattern SUMMARY =
      Pattern.compile("shutdown complete in \\d+ ms: (\\d+) requests? drained, (\\d+) aborted");

  @TempDir Path dir;

  private final ExecutorService pool = Executors.newFixedThreadPool(2);
  private final List<Socket> sockets = new ArrayList<>();

  @AfterEach
  void closeAll() throws IOException {
    pool.shutdownNow();
    for (Socket s : sockets) {
      s.close();
    }
  }

  private Socket open(int port) throws IOException {
    Socket s = new Socket();
    s.setReceiveBufferSize(4096);
    s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
    sockets.add(s);
    return s;
  }

  /**
   * Pipelines requests on a connection and never reads the answers; returns once the writes have
   * stopped going through (the server has stopped reading, its responses stuck behind ours).
   */
  private void stuffUntilBlocked(int port) throws Exception {
    OutputStream out = open(port).getOutputStream();
    byte[] requests =
        "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n".repeat(500).getBytes(StandardCharsets.US_ASCII);
    AtomicLong written = new AtomicLong();
    pool.submit(
        () -> {
          try {
            while (true) {
              out.write(requests);
              written.addAndGet(requests.length);
            }
          } catch (IOException cut) {
            return null;
          }
        });
    long last = -1;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (written.get() != last) {
      assertThat(System.nanoTime()).as("writes never blocked").isLessThan(deadline);
      last = written.get();
      TimeUnit.MILLISECONDS.sleep(300);
    }
  }

  private static long[] summary(ServiceProcess service) {
    Matcher m = SUMMARY.matcher(service.output());
    assertThat(m.find()).as("summary line").isTrue();
    return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))};
  }

  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void aClientThatNeverReadsIsCutAtTheDeadlineAndCountedAborted(int instances) throws Exception {
    int timeoutMs = 2000;
    try (ServiceProcess service =
        ServiceProcess.start(
            dir,
            Map.of(
                "HTTP_INSTANCES", "" + instances,
                "SHUTDOWN_TIMEOUT_MS", "" + timeoutMs,
                "HTTP_WRITE_TIMEOUT_MS", "60000"))) {
      stuffUntilBlocked(service.port());

      long sent = service.sigterm();
      int status = service.awaitExit(Duration.ofSeconds(30));

      long tookMs = TimeUnit.NANOSECONDS.toMillis(service.exitNanos() - sent);
      int delayMs = Integer.parseInt(System.getenv().getOrDefault("SHUTDOWN_DELAY_MS", "0"));
      assertThat(tookMs).isLessThan(delayMs + timeoutMs + 500);
      assertThat(status).isEqualTo(1);
      assertThat(summary(service)[1]).isPositive();
      assertThat(service.output()).contains("exit 1").doesNotContain("\tat ");
    }
  }

  @Test
  void aClientThatNeverReadsIsCutAtTheWriteTimeoutBeforeTheDeadline() throws Exception {
    int writeTimeoutMs = 3000;
    try (ServiceProcess service =
        ServiceProcess.start(
            dir,
            Map.of("SHUTDOWN_TIMEOUT_MS", "30000", "HTTP_WRITE_TIMEOUT_MS", "" + writeTimeoutMs))) {
      stuffUntilBlocked(service.port());

      long sent = service.sigterm();
      int status = service.awaitExit(Duration.ofSeconds(40));

      long tookMs = TimeUnit.NANOSECONDS.toMillis(service.exitNanos() - sent);
      // The stall is detected within a quarter of the timeout after it passes.
      assertThat(tookMs).isLessThan(writeTimeoutMs * 5 / 4 + 2_000);
      assertThat(status).isEqualTo(1);
      assertThat(summary(service)[1]).isPositive();
    }
  }

  @Test
  void slowHeadsAndHalfSentBodiesDoNotHoldTheShutdown() throws Exception {
    try (ServiceProcess service =
        ServiceProcess.start(
            dir,
            Map.of(
                "HTTP_HEAD_TIMEOUT_MS", "60000",
                "HTTP_BODY_TIMEOUT_MS", "60000",
                "SHUTDOWN_TIMEOUT_MS", "30000"))) {
      int port = service.port();
      for (int i = 0; i < 20; i++) {
        open(port)
            .getOutputStream()
            .write("GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: a".getBytes());
      }
      List<RawHttp> halfBodies = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        RawHttp conn = new RawHttp("127.0.0.1", port, 10_000);
        halfBodies.add(conn);
        conn.write("GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabcde");
        assertThat(conn.read().status()).isEqualTo(200);
      }

      long sent = service.sigterm();
      int status = service.awaitExit(Duration.ofSeconds(40));

      long tookMs = TimeUnit.NANOSECONDS.toMillis(service.exitNanos() - sent);
      assertThat(status).isZero();
      assertThat(tookMs).as("well before any timeout of 30 s or more").isLessThan(5_000);
      assertThat(summary(service)[1]).isZero();
      for (RawHttp conn : halfBodies) {
        assertThat(conn.closedByServer()).isTrue();
        conn.close();
      }
    }
  }

  /** HPACK for GET /hello: :method GET, :scheme http (static table), :path, :authority "x". */
  private static final byte[] GET_HELLO = {
    (byte) 0x82, (byte) 0x86, 0x04, 0x06, '/', 'h', 'e', 'l', 'l', 'o', 0x41, 0x01, 'x'
  };

  /**
   * An HTTP/2 client that opens no flow-control window: the route ends each response, but its DATA
   * never leaves. Those responses are lost, so they must count as aborted, and the exit say so.
   */
  @ParameterizedTest(name = "HTTP_INSTANCES={0}")
  @ValueSource(ints = {1, 4})
  void http2ResponsesAClosedWindowHoldsBackCountAsAborted(int instances) throws Exception {
    int streams = 5;
    try (ServiceProcess service =
        ServiceProcess.start(
            dir, Map.of("HTTP_INSTANCES", "" + instances, "SHUTDOWN_TIMEOUT_MS", "2000"))) {
      Http2HostileClientIT.H2 h2 = new Http2HostileClientIT.H2(service.port(), 0);
      h2.write(Http2HostileClientIT.H2.preface());
      // SETTINGS_INITIAL_WINDOW_SIZE (0x4) = 0: no stream may send a DATA byte.
      h2.write(Http2HostileClientIT.frame(0x4, 0, 0, new byte[] {0, 4, 0, 0, 0, 0}));
      for (int i = 0; i < streams; i++) {
        h2.write(Http2HostileClientIT.frame(0x1, 0x1 | 0x4, 1 + 2 * i, GET_HELLO));
      }
      // Read every frame (so the socket is no limit), counting response heads and DATA bytes.
      CompletableFuture<Void> allHeads = new CompletableFuture<>();
      AtomicLong dataBytes = new AtomicLong();
      Future<?> reading =
          pool.submit(
              () -> {
                int heads = 0;
                for (var f = h2.read(); f != null; f = h2.read()) {
                  if (f.type() == 0x1 && ++heads == streams) {
                    allHeads.complete(null);
                  } else if (f.type() == 0x0) {
                    dataBytes.addAndGet(f.payload().length);
                  }
                }
                return null;
              });
      allHeads.get(20, TimeUnit.SECONDS);

      service.sigterm();
      int status = service.awaitExit(Duration.ofSeconds(30));
      reading.get(10, TimeUnit.SECONDS);
      h2.close();

      assertThat(dataBytes.get()).as("DATA bytes the client got").isZero();
      assertThat(summary(service)).containsExactly(0, streams);
      assertThat(status).isEqualTo(1);
      assertThat(service.output()).doesNotContain("\tat ");
    }
  }
}
