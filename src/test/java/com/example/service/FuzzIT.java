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
 * Thousands of mutated requests against the running jar, seeded so a failure can be replayed: half
 * the clients mutate HTTP/1.1 requests, half mutate valid HTTP/2 frame sequences (prior knowledge)
 * frame by frame. The process stays up, every answer is well-formed (whole HTTP/1.x responses, or
 * whole HTTP/2 frames starting with the server's SETTINGS) or a close, the log holds no stack
 * trace, and the heap and direct memory after a full GC stay within {@link #MAX_GROWTH_BYTES} of
 * where they were after a warm-up.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class FuzzIT {

  static final long SEED = Long.getLong("fuzz.seed", 20261125L);
  static final Duration RUN = Duration.ofSeconds(Long.getLong("fuzz.seconds", 15));
  static final Duration WARM_UP = Duration.ofSeconds(5);

  /**
   * The heap's live data and direct memory (Native Memory Tracking's "Other", where Netty's direct
   * buffers are) may grow by this much from the end of the warm-up to the end of the run, each
   * measured after a full GC: a leak of one 16 KiB buffer per bad request would exceed it. Not the
   * heap G1 has committed, which it gives back concurrently (JDK 17 on): read right after the
   * collection, it sometimes still held 60 to 190 MB that was on its way back. Not the resident
   * size, which also holds what glibc keeps of the JIT compiler's freed arenas: it grew 37 to 75 MB
   * over the same run while everything the JVM tracks grew 3 to 18 MB.
   */
  static final long MAX_GROWTH_BYTES = 32L << 20;

  private static final int CLIENTS = 32;

  /** What {@code jcmd <pid> VM.native_memory summary scale=KB} says "Other" commits. */
  private static final Pattern NMT_OTHER =
      Pattern.compile("-\\s+Other \\(reserved=\\d+KB, committed=(\\d+)KB");

  /** The heap's use in {@code jcmd <pid> GC.heap_info}, on JDK 17 and on 25. */
  private static final Pattern G1_USED =
      Pattern.compile("garbage-first heap\\s+total [^\\n]*used (\\d+)K");

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

  /** HPACK: GET, http, /hello, :authority x. */
  private static final byte[] GET_HELLO = {
    (byte) 0x82, (byte) 0x86, 0x44, 0x06, '/', 'h', 'e', 'l', 'l', 'o', 0x41, 0x01, 'x'
  };

  /** HPACK: POST, http, /upload, :authority x. */
  private static final byte[] POST_UPLOAD = {
    (byte) 0x83, (byte) 0x86, 0x44, 0x07, '/', 'u', 'p', 'l', 'o', 'a', 'd', 0x41, 0x01, 'x'
  };

  private static final int DATA = 0x0;
  private static final int HEADERS = 0x1;
  private static final int PRIORITY = 0x2;
  private static final int RST_STREAM = 0x3;
  private static final int SETTINGS = 0x4;
  private static final int PING = 0x6;
  private static final int WINDOW_UPDATE = 0x8;
  private static final int CONTINUATION = 0x9;
  private static final int END_STREAM = 0x1;
  private static final int END_HEADERS = 0x4;

  /** Valid HTTP/2 frame sequences, sent after the preface; each frame is mutated as a unit. */
  private static final List<List<byte[]>> FRAME_SEEDS =
      List.of(
          List.of(frame(SETTINGS, 0, 0), frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_HELLO)),
          List.of(
              frame(SETTINGS, 0, 0),
              frame(HEADERS, END_HEADERS, 1, POST_UPLOAD),
              frame(DATA, END_STREAM, 1, new byte[] {'h', 'e', 'l', 'l', 'o'})),
          List.of(
              frame(SETTINGS, 0, 0),
              frame(HEADERS, END_STREAM, 1, java.util.Arrays.copyOf(GET_HELLO, 4)),
              frame(
                  CONTINUATION,
                  END_HEADERS,
                  1,
                  java.util.Arrays.copyOfRange(GET_HELLO, 4, GET_HELLO.length))),
          List.of(
              frame(SETTINGS, 0, 0),
              frame(PING, 0, 0, new byte[8]),
              frame(WINDOW_UPDATE, 0, 0, new byte[] {0, 0, 0x10, 0}),
              frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_HELLO),
              frame(RST_STREAM, 0, 1, new byte[] {0, 0, 0, 8})),
          List.of(
              frame(SETTINGS, 0, 0, new byte[] {0, 4, 0, 0, 0, 0}), // INITIAL_WINDOW_SIZE 0
              frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_HELLO),
              frame(WINDOW_UPDATE, 0, 1, new byte[] {0, 0, 0x10, 0})),
          List.of(
              frame(SETTINGS, 0, 0),
              frame(PRIORITY, 0, 3, new byte[] {0, 0, 0, 1, 16}),
              frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_HELLO),
              frame(HEADERS, END_STREAM | END_HEADERS, 3, GET_HELLO),
              frame(HEADERS, END_STREAM | END_HEADERS, 5, GET_HELLO)));

  private static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);

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
                    "HTTP_HEAD_TIMEOUT_MS",
                    "500",
                    "HTTP_BODY_TIMEOUT_MS",
                    "500",
                    "HTTP_IDLE_TIMEOUT_MS",
                    "500",
                    "HTTP_WRITE_TIMEOUT_MS",
                    "1000",
                    // G1 whatever the machine, for GC.heap_info's format.
                    "JAVA_TOOL_OPTIONS",
                    "-XX:+UseG1GC -XX:NativeMemoryTracking=summary"))
            .quiet()) {
      int port = service.port();
      List<String> malformed = new ArrayList<>();
      ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
      // The first seconds size the heap and fill the code cache: measured from after them.
      fuzz(clients, port, WARM_UP, 0, malformed);
      Memory before = afterGc(service.pid());
      fuzz(clients, port, RUN, CLIENTS, malformed);
      Memory after = afterGc(service.pid());
      clients.shutdownNow();
      System.out.printf(
          "fuzz seed %d, %s after a %s warm-up: %s; after a full GC, live heap and direct memory %d MB"
              + " -> %d MB, RSS %d MB -> %d MB; %s%n",
          SEED,
          RUN,
          WARM_UP,
          new TreeMap<>(counts),
          before.heapAndDirect >> 20,
          after.heapAndDirect >> 20,
          before.rss >> 20,
          after.rss >> 20,
          service.output().lines().filter(l -> l.contains("WARNING")).toList());

      assertThat(malformed).as("malformed answers").isEmpty();
      assertThat(counts.get("sent").sum()).isGreaterThan(1000);
      assertThat(counts.get("sent h2").sum()).isGreaterThan(100);
      try (RawHttp conn = new RawHttp("127.0.0.1", port, 5_000)) {
        assertThat(conn.get("/hello").status()).as("still serving").isEqualTo(200);
      }
      assertThat(service.output()).doesNotContain("\tat ").doesNotContain("SEVERE");
      assertThat(after.heapAndDirect - before.heapAndDirect).isLessThan(MAX_GROWTH_BYTES);
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
      boolean http2 = c % 2 == 1;
      running.add(
          clients.submit(
              () -> {
                while (System.nanoTime() < until) {
                  byte[] request = http2 ? mutateFrames(random) : mutate(random);
                  String problem = exchange(port, request, http2);
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

  private static byte[] frame(int type, int flags, int stream) {
    return frame(type, flags, stream, new byte[0]);
  }

  private static byte[] frame(int type, int flags, int stream, byte[] payload) {
    java.nio.ByteBuffer frame = java.nio.ByteBuffer.allocate(9 + payload.length);
    frame.put((byte) (payload.length >>> 16)).putShort((short) payload.length);
    frame.put((byte) type).put((byte) flags).putInt(stream).put(payload);
    return frame.array();
  }

  /**
   * The preface, then a seed frame sequence with one to four mutations of whole frames (type,
   * flags, stream, length, payload, a duplicate, a drop, random bytes between), sometimes cut
   * short.
   */
  private static byte[] mutateFrames(Random random) {
    List<byte[]> frames = new ArrayList<>(FRAME_SEEDS.get(random.nextInt(FRAME_SEEDS.size())));
    int mutations = 1 + random.nextInt(4);
    for (int m = 0; m < mutations; m++) {
      int i = random.nextInt(frames.size());
      byte[] f = frames.get(i).clone();
      switch (random.nextInt(8)) {
        case 0 -> f[3] = (byte) random.nextInt(random.nextBoolean() ? 10 : 256); // type
        case 1 -> f[4] = (byte) random.nextInt(256); // flags
        case 2 -> f[8] = (byte) pickStream(random); // stream id, low byte
        case 3 -> f[2] = (byte) (f[2] + 1 + random.nextInt(20)); // length lies
        case 4 -> {
          if (f.length > 9) {
            f[9 + random.nextInt(f.length - 9)] = (byte) random.nextInt(256);
          }
        }
        case 5 -> frames.add(i, f); // duplicated
        case 6 -> {
          if (frames.size() > 1) {
            frames.remove(i);
            continue;
          }
        }
        default -> frames.add(i, randomBytes(random, 1 + random.nextInt(12)));
      }
      if (i < frames.size()) {
        frames.set(i, f);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(PREFACE);
    frames.forEach(out::writeBytes);
    byte[] bytes = out.toByteArray();
    return random.nextInt(8) == 0
        ? java.util.Arrays.copyOf(bytes, random.nextInt(bytes.length))
        : bytes;
  }

  private static int pickStream(Random random) {
    return new int[] {0, 1, 2, 3, 5, 7, 255}[random.nextInt(7)];
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
   * Sends one request on a fresh connection and reads until the server closes it; an HTTP/2 client
   * answers the server's PINGs (so that the idle timeout's two GOAWAYs end the connection) and
   * stops reading after {@code H2_READ_MS}.
   *
   * @return what is wrong with the answer, or null if it is well-formed
   */
  private String exchange(int port, byte[] request, boolean http2) {
    count(http2 ? "sent h2" : "sent");
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    boolean cutByUs = false;
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      s.setSoTimeout(http2 ? H2_READ_MS : 3_000);
      try {
        s.getOutputStream().write(request);
      } catch (IOException closedWhileSending) {
        count("closed while sending");
      }
      InputStream in = s.getInputStream();
      byte[] buf = new byte[8192];
      int pingsAcked = 0;
      try {
        for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
          received.write(buf, 0, n);
          if (http2) {
            pingsAcked = ackPings(received.toByteArray(), pingsAcked, s);
          }
        }
      } catch (SocketTimeoutException e) {
        count(http2 ? "h2 still open after " + H2_READ_MS + " ms" : "still open after 3 s");
        cutByUs = true;
      } catch (IOException reset) {
        count("reset");
      }
    } catch (IOException e) {
      return "cannot connect: " + e;
    }
    byte[] bytes = received.toByteArray();
    boolean h1 =
        bytes.length >= 7 && new String(bytes, 0, 7, StandardCharsets.ISO_8859_1).equals("HTTP/1.");
    return http2 && !h1 ? checkFrames(bytes, cutByUs) : check(bytes);
  }

  private static final int H2_READ_MS = 1_500;

  /** Acks each PING the server sent past the first {@code acked}; returns how many it has acked. */
  private static int ackPings(byte[] bytes, int acked, Socket s) {
    int seen = 0;
    for (int at = 0; at + 9 <= bytes.length; ) {
      int length = (bytes[at] & 0xff) << 16 | (bytes[at + 1] & 0xff) << 8 | (bytes[at + 2] & 0xff);
      if (at + 9 + length > bytes.length) {
        break;
      }
      if (bytes[at + 3] == PING && (bytes[at + 4] & 0x1) == 0 && length == 8 && ++seen > acked) {
        byte[] ack = frame(PING, 0x1, 0, java.util.Arrays.copyOfRange(bytes, at + 9, at + 17));
        try {
          s.getOutputStream().write(ack);
        } catch (IOException gone) {
          return seen;
        }
      }
      at += 9 + length;
    }
    return Math.max(seen, acked);
  }

  /**
   * Checks that {@code bytes} is whole HTTP/2 frames, the first the server's SETTINGS; the last may
   * be cut short only where this client stopped reading.
   */
  private String checkFrames(byte[] bytes, boolean cutByUs) {
    if (bytes.length == 0) {
      count("h2 closed without an answer");
      return null;
    }
    int at = 0;
    boolean first = true;
    while (at < bytes.length) {
      if (bytes.length - at < 9) {
        return cutByUs ? null : "frame header cut short";
      }
      int length = (bytes[at] & 0xff) << 16 | (bytes[at + 1] & 0xff) << 8 | (bytes[at + 2] & 0xff);
      int type = bytes[at + 3] & 0xff;
      if (length > 16_384) {
        return "frame over SETTINGS_MAX_FRAME_SIZE: " + length;
      }
      if (type > CONTINUATION) {
        return "unknown frame type from the server: " + type;
      }
      if (first && type != SETTINGS) {
        return "first frame is not SETTINGS but " + type;
      }
      if (bytes.length - at - 9 < length) {
        return cutByUs ? null : "frame cut short: type " + type;
      }
      count("h2 frame " + type);
      first = false;
      at += 9 + length;
    }
    return null;
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

  /** What the service holds after a full GC: committed heap and direct memory, and its RSS. */
  private record Memory(long heapAndDirect, long rss) {}

  private static Memory afterGc(long pid) throws Exception {
    jcmd(pid, "GC.run");
    Matcher used = G1_USED.matcher(jcmd(pid, "GC.heap_info"));
    assertThat(used.find()).as("G1's heap in GC.heap_info").isTrue();
    Matcher other = NMT_OTHER.matcher(jcmd(pid, "VM.native_memory", "summary", "scale=KB"));
    assertThat(other.find()).as("Native Memory Tracking's Other").isTrue();
    long heapAndDirect = (Long.parseLong(used.group(1)) + Long.parseLong(other.group(1))) * 1024;
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return new Memory(heapAndDirect, Long.parseLong(line.replaceAll("\\D", "")) * 1024);
      }
    }
    throw new IllegalStateException("no VmRSS for " + pid);
  }

  private static String jcmd(long pid, String... args) throws Exception {
    Path java = Path.of(ProcessHandle.current().info().command().orElseThrow());
    List<String> command = new ArrayList<>(List.of(java.resolveSibling("jcmd").toString()));
    command.add(Long.toString(pid));
    command.addAll(List.of(args));
    Process jcmd = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(jcmd.waitFor()).as("jcmd " + String.join(" ", args)).isZero();
    return out;
  }
}
