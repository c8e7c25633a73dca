package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that misbehave, against the service as a process: each answer is asserted on the wire,
 * and the log is read for what it must and must not hold. One process serves every test here, with
 * short timeouts so that waiting for them stays cheap.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostileClientIT {

  static final int HEAD_TIMEOUT_MS = 1000;
  static final int BODY_TIMEOUT_MS = 1000;
  static final int IDLE_TIMEOUT_MS = 3000;

  /** How long past a timeout a close may come on a loaded 2-core machine; generous on purpose. */
  static final int SLACK_MS = 5000;

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
                    "HTTP_BODY_TIMEOUT_MS", "" + BODY_TIMEOUT_MS,
                    "HTTP_IDLE_TIMEOUT_MS", "" + IDLE_TIMEOUT_MS,
                    "HTTP_WRITE_TIMEOUT_MS", "1000"))
            .quiet();
    port = service.port();
  }

  @AfterAll
  static void stop() throws Exception {
    service.sigterm();
    assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
    String log = service.output();
    // No client in this class may put a stack trace or a SEVERE line in the log.
    assertThat(log).doesNotContain("\tat ").doesNotContain("SEVERE").doesNotContain("Exception");
  }

  private static RawHttp connect() throws IOException {
    return new RawHttp("127.0.0.1", port, SLACK_MS + IDLE_TIMEOUT_MS);
  }

  private static void assertJsonError(RawHttp.Response response, int status) {
    assertThat(response.statusLine()).startsWith("HTTP/1.1 " + status + " ");
    assertThat(response.headers()).containsEntry("content-type", "application/json");
    assertThat(new JsonObject(response.body()).getString("error")).isNotBlank();
  }

  private static long logLines(String containing) {
    return service.output().lines().filter(l -> l.contains(containing)).count();
  }

  @Test
  void slowlorisConnectionsGet408WithinTheHeadTimeoutWhileOthersAreServed() throws Exception {
    int n = 200;
    List<Socket> slow = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Socket s = new Socket();
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      s.setSoTimeout(SLACK_MS);
      s.getOutputStream().write("GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes());
      slow.add(s);
    }
    long started = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    AtomicBoolean dribbling = new AtomicBoolean(true);
    AtomicInteger served = new AtomicInteger();
    try {
      // One byte per connection every 200 ms: each byte would restart a read-idle timer.
      Future<?> dribbler =
          pool.submit(
              () -> {
                while (dribbling.get()) {
                  for (Socket s : slow) {
                    try {
                      s.getOutputStream().write('a');
                    } catch (IOException closedByServer) {
                      // expected once the head timeout passes
                    }
                  }
                  TimeUnit.MILLISECONDS.sleep(200);
                }
                return null;
              });
      Future<?> others =
          pool.submit(
              () -> {
                long until = started + TimeUnit.MILLISECONDS.toNanos(HEAD_TIMEOUT_MS + 500);
                while (System.nanoTime() < until) {
                  try (RawHttp fresh = connect()) {
                    assertThat(fresh.get("/hello").status()).isEqualTo(200);
                    served.incrementAndGet();
                  }
                }
                return null;
              });
      others.get(30, TimeUnit.SECONDS);
      for (Socket s : slow) {
        String answer = readAll(s);
        assertThat(answer).startsWith("HTTP/1.1 408 ").contains("\"error\"");
      }
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      assertThat(tookMs).isLessThan(HEAD_TIMEOUT_MS + SLACK_MS);
      dribbling.set(false);
      dribbler.get(5, TimeUnit.SECONDS);
    } finally {
      dribbling.set(false);
      pool.shutdownNow();
      for (Socket s : slow) {
        s.close();
      }
    }
    assertThat(served.get()).isPositive();
  }

  /** Everything the server sends until it closes; fails if it does not close in time. */
  private static String readAll(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    StringBuilder text = new StringBuilder();
    byte[] buf = new byte[4096];
    try {
      for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
        text.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("not closed by the server; got: " + text, e);
    } catch (IOException reset) {
      // a reset after the answer: what was read is kept
    }
    return text.toString();
  }

  @Test
  void aTlsClientHelloOnThePlainPortIsAnswered400AndClosed() throws Exception {
    try (RawHttp conn = connect()) {
      conn.write(HexFormat.of().parseHex("16030100a5010000a1030300000000000000000000000000"));
      assertJsonError(conn.read(), 400);
      assertThat(conn.closedByServer()).isTrue();
    }
  }

  @Test
  void aHalfSentBodyIsClosedAfterTheBodyTimeout() throws Exception {
    try (RawHttp conn = connect()) {
      conn.write("GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabcde");
      assertThat(conn.read().status()).isEqualTo(200);
      long waited = System.nanoTime();
      assertThat(conn.closedByServer()).isTrue();
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - waited))
          .isLessThan(BODY_TIMEOUT_MS + SLACK_MS);
    }
  }

  @Test
  void contentLengthWithTransferEncodingIs400AndClosesBeforeTheSmuggledRequest() throws Exception {
    try (RawHttp conn = connect()) {
      conn.write(
          "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"
              + "\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
      RawHttp.Response response = conn.read();
      assertJsonError(response, 400);
      assertThat(response.connectionClose()).isTrue();
      assertThat(conn.closedByServer()).as("no answer to the smuggled request").isTrue();
    }
  }

  @Test
  void badPercentEncodingIsAJson400AndABurstWritesOneLineASecond() throws Exception {
    try (RawHttp conn = connect()) {
      for (String path : List.of("/%ZZ", "/hello%")) {
        assertJsonError(conn.get(path), 400);
      }
    }
    long before = logLines("400 bad request");
    long started = System.nanoTime();
    int burst = 500;
    try (RawHttp conn = connect()) {
      conn.write("GET /%ZZ HTTP/1.1\r\nHost: x\r\n\r\n".repeat(burst));
      for (int i = 0; i < burst; i++) {
        assertJsonError(conn.read(), 400);
      }
    }
    // One line per started second of the burst, plus the summary of the last one.
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started) + 2;
    service.awaitLine(l -> l.contains("more in the last second")).get(10, TimeUnit.SECONDS);
    assertThat(logLines("400 bad request") - before).isLessThanOrEqualTo(seconds);
  }

  @Test
  void http11WithoutHostIsAJson400() throws Exception {
    try (RawHttp conn = connect()) {
      conn.write("GET /hello HTTP/1.1\r\n\r\n");
      assertJsonError(conn.read(), 400);
    }
    assertThat(service.output()).doesNotContain("Unhandled exception in router");
  }

  @Test
  void aBadOrUnsupportedVersionIsAnsweredInHttp11() throws Exception {
    try (RawHttp conn = connect()) {
      conn.write("GET / FOO/1.1\r\nHost: x\r\n\r\n");
      assertJsonError(conn.read(), 400);
    }
    try (RawHttp conn = connect()) {
      conn.write("GET / HTTP/9.9\r\nHost: x\r\n\r\n");
      RawHttp.Response response = conn.read();
      assertJsonError(response, 505);
      assertThat(conn.closedByServer()).isTrue();
    }
  }

  @Test
  void headWorksOnGetRoutesWithHeadersAndNoBody() throws Exception {
    try (RawHttp conn = connect()) {
      conn.send("/hello", "HEAD");
      RawHttp.Response head = conn.readHead();
      assertThat(head.statusLine()).startsWith("HTTP/1.1 200 ");
      // Had a body been sent, the next response would not start with a status line.
      assertThat(conn.get("/hello").body()).isEqualTo("hello");
      conn.send("/health/ready", "HEAD");
      assertThat(conn.readHead().status()).isEqualTo(200);
      assertThat(conn.get("/hello").status()).isEqualTo(200);
    }
  }

  @Test
  void aBodyOverTheLimitIs413AndTheRestIsNotRead() throws Exception {
    try (RawHttp conn = connect()) {
      conn.write("GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n");
      RawHttp.Response response = conn.read();
      assertJsonError(response, 413);
      assertThat(response.connectionClose()).isTrue();
      byte[] chunk = new byte[1 << 16];
      assertThatThrownBy(
              () -> {
                for (int sent = 0; sent < 50_000_000; sent += chunk.length) {
                  conn.write(chunk);
                }
              })
          .as("the server closed instead of reading 50 MB")
          .isInstanceOf(IOException.class);
    }
  }

  @Test
  void anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout() throws Exception {
    try (RawHttp conn = connect()) {
      assertThat(conn.get("/hello").status()).isEqualTo(200);
      long waited = System.nanoTime();
      assertThat(conn.closedByServer()).isTrue();
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - waited);
      assertThat(tookMs).isBetween((long) IDLE_TIMEOUT_MS - 100, (long) IDLE_TIMEOUT_MS + SLACK_MS);
    }
  }

  @Test
  void aPipeliningClientThatNeverReadsIsCutAfterTheWriteTimeout() throws Exception {
    try (Socket s = new Socket()) {
      s.setReceiveBufferSize(4096);
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      s.setSoTimeout(SLACK_MS);
      byte[] requests =
          "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n".repeat(1000).getBytes(StandardCharsets.US_ASCII);
      // Writes block once both sides' buffers are full; the server cuts the connection then.
      assertThatThrownBy(
              () -> {
                while (true) {
                  s.getOutputStream().write(requests);
                }
              })
          .isInstanceOf(IOException.class);
    }
    service
        .awaitLine(l -> l.contains("no write progress") || l.contains("response cut"))
        .get(10, TimeUnit.SECONDS);
  }

  @Test
  void withHttp2DisabledThePrefaceIs505AndAnUpgradeIsServedInHttp11(@TempDir Path own)
      throws Exception {
    try (ServiceProcess http1 =
        ServiceProcess.start(own, Map.of("HTTP2_ENABLED", "false", "HTTP2_UPGRADE", "true"))
            .quiet()) {
      try (RawHttp conn = new RawHttp("127.0.0.1", http1.port(), 5_000)) {
        conn.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        assertJsonError(conn.read(), 505);
        assertThat(conn.closedByServer()).isTrue();
      }
      try (RawHttp conn = new RawHttp("127.0.0.1", http1.port(), 5_000)) {
        conn.write(
            "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n");
        RawHttp.Response response = conn.read();
        assertThat(response.statusLine()).startsWith("HTTP/1.1 200");
      }
      assertThat(http1.output()).doesNotContain("Exception");
    }
  }

  @Test
  void connectionsOverTheCapAreClosedAtOnceAndLoggedAtMostOnceASecond(@TempDir Path own)
      throws Exception {
    int max = 4;
    try (ServiceProcess capped =
        ServiceProcess.start(own, Map.of("HTTP_MAX_CONNECTIONS", "" + max)).quiet()) {
      int cappedPort = capped.port();
      List<RawHttp> admitted = new ArrayList<>();
      for (int i = 0; i < max; i++) {
        RawHttp conn = new RawHttp("127.0.0.1", cappedPort, 5_000);
        admitted.add(conn);
        assertThat(conn.get("/hello").status()).isEqualTo(200);
      }
      long started = System.nanoTime();
      int refused = 50;
      for (int i = 0; i < refused; i++) {
        try (RawHttp over = new RawHttp("127.0.0.1", cappedPort, 5_000)) {
          over.send("/hello");
          assertThatThrownBy(over::read).isInstanceOf(IOException.class);
        }
      }
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started) + 2;
      for (RawHttp conn : admitted) {
        assertThat(conn.get("/hello").status()).as("admitted ones still served").isEqualTo(200);
      }
      assertThat(admitted.get(0).get("/metrics").body())
          .contains("service_http_connections_refused_total " + refused + ".0");
      admitted.remove(0).close();
      // The server counts the closed one out when it sees the close: retried, bounded.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (true) {
        try (RawHttp again = new RawHttp("127.0.0.1", cappedPort, 5_000)) {
          if (again.get("/hello").status() == 200) {
            break;
          }
        } catch (IOException refusedStill) {
          assertThat(System.nanoTime()).as("a freed slot is reused").isLessThan(deadline);
        }
      }
      for (RawHttp conn : admitted) {
        conn.close();
      }
      capped
          .awaitLine(
              l -> l.contains("more in the last second") && l.contains("HTTP_MAX_CONNECTIONS"))
          .get(10, TimeUnit.SECONDS);
      long lines =
          capped.output().lines().filter(l -> l.contains("HTTP_MAX_CONNECTIONS=" + max)).count();
      assertThat(lines).isBetween(1L, seconds);
    }
  }
}
