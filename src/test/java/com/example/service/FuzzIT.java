package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thousands of mutated requests against the running jar, seeded so a failure can be replayed: the
 * process stays up, every answer is a well-formed HTTP/1.x response or a close, the log holds no
 * stack trace, and memory after a full GC stays within {@link #MAX_RSS_GROWTH_BYTES} of where it
 * was after a warm-up.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class FuzzIT {

  static final long SEED = Long.getLong("fuzz.seed", 20261125L);
  static final Duration RUN = Duration.ofSeconds(Long.getLong("fuzz.seconds", 15));
  static final Duration WARM_UP = Duration.ofSeconds(5);

  /**
   * Resident memory may grow by this much from the end of the warm-up to the end of the run, each
   * measured after a full GC: a leak of one buffer per bad request would pass it in seconds.
   */
  static final long MAX_RSS_GROWTH_BYTES = 64L << 20;

  private static final int CLIENTS = 32;
  private static final Pattern STATUS_LINE =
      Pattern.compile("HTTP/1\\.[01] ([1-5]\\d\\d) [^\\r\\n]*");

  private static final List<String> SEEDS =
      List.of(
          "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n",
          "GET /hello?name=a%20b HTTP/1.1\r\nHost: x\r\nAccept: */*\r\nUser-Agent: fuzz\r\n\r\n",
          "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
          "POST /hello HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
          "GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
          "GET /hello HTTP/1.0\r\n\r\n",
          "GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /health/live HTTP/1.1\r\nHost: x\r\n\r\n",
          "DELETE /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");

  @TempDir Path dir;

  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

  private void count(String what) {
    counts.computeIfAbsent(what, k -> new LongAdder()).increment();
  }

  @Test
  void mutatedRequestsGetWellFormedAnswersOrACloseAndNothingLeaks() throws Exception {
    try (ServiceProcess service =
        ServiceProcess.start(
                dir,
                Map.of(
                    "HTTP_HEAD_TIMEOUT_MS", "500",
                    "HTTP_BODY_TIMEOUT_MS", "500",
                    "HTTP_IDLE_TIMEOUT_MS", "500",
                    "HTTP_WRITE_TIMEOUT_MS", "1000",
                    // After a full GC the free heap goes back to the OS: RSS tracks what is live.
                    "JAVA_TOOL_OPTIONS", "-XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20"))
            .quiet()) {
      int port = service.port();
      List<String> malformed = new ArrayList<>();
      ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
      // The first seconds size the heap and fill the code cache: measured from after them.
      fuzz(clients, port, WARM_UP, 0, malformed);
      long rssBefore = rssAfterGc(service.pid());
      fuzz(clients, port, RUN, CLIENTS, malformed);
      long rssAfter = rssAfterGc(service.pid());
      clients.shutdownNow();
      System.out.printf(
          "fuzz seed %d, %s after a %s warm-up: %s; RSS after a full GC %d MB -> %d MB; %s%n",
          SEED,
          RUN,
          WARM_UP,
          new TreeMap<>(counts),
          rssBefore >> 20,
          rssAfter >> 20,
          service.output().lines().filter(l -> l.contains("WARNING")).toList());

      assertThat(malformed).as("malformed answers").isEmpty();
      assertThat(counts.get("sent").sum()).isGreaterThan(1000);
      try (RawHttp conn = new RawHttp("127.0.0.1", port, 5_000)) {
        assertThat(conn.get("/hello").status()).as("still serving").isEqualTo(200);
      }
      assertThat(service.output()).doesNotContain("\tat ").doesNotContain("SEVERE");
      assertThat(rssAfter - rssBefore).isLessThan(MAX_RSS_GROWTH_BYTES);
      service.sigterm();
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
    }
  }

  /** Sends mutated requests from {@link #CLIENTS} connections at a time for {@code time}. */
  private void fuzz(
      ExecutorService clients, int port, Duration time, int seedOffset, List<String> malformed)
      throws Exception {
    long until = System.nanoTime() + time.toNanos();
    List<Future<?>> running = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      Random random = new Random(SEED + seedOffset + c);
      running.add(
          clients.submit(
              () -> {
                while (System.nanoTime() < until) {
                  byte[] request = mutate(random);
                  String problem = exchange(port, request);
                  if (problem != null) {
                    synchronized (malformed) {
                      malformed.add(problem + " <- " + printable(request));
                    }
                  }
                }
                return null;
              }));
    }
    for (Future<?> f : running) {
      f.get(time.toSeconds() + 60, TimeUnit.SECONDS);
    }
  }

  /** A seed request with one to four mutations. */
  private static byte[] mutate(Random random) {
    byte[] bytes = SEEDS.get(random.nextInt(SEEDS.size())).getBytes(StandardCharsets.ISO_8859_1);
    int mutations = 1 + random.nextInt(4);
    for (int m = 0; m < mutations && bytes.length > 0; m++) {
      int at = random.nextInt(bytes.length);
      bytes =
          switch (random.nextInt(7)) {
            case 0 -> flip(bytes, at, random);
            case 1 -> splice(bytes, at, at, randomBytes(random, 1 + random.nextInt(16)));
            case 2 ->
                splice(bytes, at, Math.min(bytes.length, at + 1 + random.nextInt(8)), new byte[0]);
            case 3 -> duplicateLine(bytes, random);
            case 4 -> lieAboutLength(bytes, random);
            case 5 -> splice(bytes, at, at, pick(random, "\r\n", "\n", "\0", "\r", " ", ":", "%"));
            default -> java.util.Arrays.copyOf(bytes, at);
          };
    }
    return bytes;
  }

  private static byte[] flip(byte[] bytes, int at, Random random) {
    byte[] copy = bytes.clone();
    copy[at] = (byte) random.nextInt(256);
    return copy;
  }

  private static byte[] randomBytes(Random random, int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  private static byte[] pick(Random random, String... options) {
    return options[random.nextInt(options.length)].getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] splice(byte[] bytes, int from, int to, byte[] insert) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length + insert.length);
    out.write(bytes, 0, from);
    out.writeBytes(insert);
    out.write(bytes, to, bytes.length - to);
    return out.toByteArray();
  }

  private static byte[] duplicateLine(byte[] bytes, Random random) {
    String text = new String(bytes, StandardCharsets.ISO_8859_1);
    String[] lines = text.split("\r\n", -1);
    if (lines.length < 3) {
      return bytes;
    }
    int i = 1 + random.nextInt(lines.length - 2);
    String line = lines[i] + "\r\n";
    int at = text.indexOf(line);
    return at < 0 ? bytes : splice(bytes, at, at, line.getBytes(StandardCharsets.ISO_8859_1));
  }

  private static byte[] lieAboutLength(byte[] bytes, Random random) {
    String text = new String(bytes, StandardCharsets.ISO_8859_1);
    String[] lies = {"0", "1", "3", "10", "99999999", "-1", "1e3", ""};
    String lie = "Content-Length: " + lies[random.nextInt(lies.length)];
    String replaced =
        text.contains("Content-Length: ")
            ? text.replaceFirst("Content-Length: [^\r\n]*", lie)
            : text.replaceFirst("\r\n", "\r\n" + lie + "\r\n");
    return replaced.getBytes(StandardCharsets.ISO_8859_1);
  }

  /**
   * Sends one request on a fresh connection and reads until the server closes it.
   *
   * @return what is wrong with the answer, or null if it is well-formed
   */
  private String exchange(int port, byte[] request) {
    count("sent");
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      s.setSoTimeout(3_000);
      try {
        s.getOutputStream().write(request);
      } catch (IOException closedWhileSending) {
        count("closed while sending");
      }
      InputStream in = s.getInputStream();
      byte[] buf = new byte[8192];
      try {
        for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
          received.write(buf, 0, n);
        }
      } catch (SocketTimeoutException e) {
        count("still open after 3 s");
      } catch (IOException reset) {
        count("reset");
      }
    } catch (IOException e) {
      return "cannot connect: " + e;
    }
    return check(received.toByteArray());
  }

  /** Checks that {@code bytes} is zero or more whole HTTP/1.x responses. */
  private String check(byte[] bytes) {
    String text = new String(bytes, StandardCharsets.ISO_8859_1);
    if (text.isEmpty()) {
      count("closed without an answer");
      return null;
    }
    int at = 0;
    while (at < text.length()) {
      int headEnd = text.indexOf("\r\n\r\n", at);
      if (headEnd < 0) {
        return "incomplete head: " + printable(text.substring(at));
      }
      String[] lines = text.substring(at, headEnd).split("\r\n");
      Matcher status = STATUS_LINE.matcher(lines[0]);
      if (!status.matches()) {
        return "bad status line: " + printable(lines[0]);
      }
      count(status.group(1).charAt(0) + "xx");
      long length = -1;
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (colon <= 0) {
          return "bad header line: " + printable(lines[i]);
        }
        if (lines[i].substring(0, colon).equalsIgnoreCase("content-length")) {
          length = Long.parseLong(lines[i].substring(colon + 1).trim());
        }
      }
      at = headEnd + 4;
      if (length < 0) {
        // Every response of this service says how long it is.
        return "no content-length: " + printable(lines[0]);
      }
      if (text.length() - at < length) {
        return "body cut short: " + printable(lines[0]);
      }
      at += (int) length;
    }
    return null;
  }

  private static String printable(byte[] bytes) {
    return printable(new String(bytes, StandardCharsets.ISO_8859_1));
  }

  private static String printable(String s) {
    StringBuilder out = new StringBuilder();
    for (char c : s.toCharArray()) {
      out.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\x%02x", (int) c));
    }
    return out.length() > 300 ? out.substring(0, 300) + "..." : out.toString();
  }

  /** Resident memory of {@code pid} after a full GC, from /proc. */
  private static long rssAfterGc(long pid) throws Exception {
    Path java = Path.of(ProcessHandle.current().info().command().orElseThrow());
    Process gc =
        new ProcessBuilder(java.resolveSibling("jcmd").toString(), Long.toString(pid), "GC.run")
            .redirectErrorStream(true)
            .start();
    gc.getInputStream().readAllBytes();
    assertThat(gc.waitFor()).as("jcmd GC.run").isZero();
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
      }
    }
    throw new IllegalStateException("no VmRSS for " + pid);
  }
}
