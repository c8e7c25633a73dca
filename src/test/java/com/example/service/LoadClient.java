package com.example.service;

import java.io.IOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A closed-loop load: each client sends its next request on its own keep-alive connection as soon
 * as the previous answer arrives, and reconnects at once when the connection closes; or, as curl in
 * a loop does, opens a new connection for every request and closes it after the answer. Every
 * attempt is classified, separately for connections opened before and after {@link #markSignal()}.
 */
public final class LoadClient {

  /** How an attempt ended. Only the {@code failed} ones lost a request the client had sent. */
  public enum Outcome {
    OK(false),
    REFUSED(false),
    UNAVAILABLE_503(false),
    EOF(true),
    RESET(true),
    PARTIAL(true),
    TIMEOUT(true),
    OTHER_5XX(true),
    OTHER_STATUS(true);

    final boolean failed;

    Outcome(boolean failed) {
      this.failed = failed;
    }
  }

  private static final Pattern ID = Pattern.compile("\"id\":\"([^\"]+)\"");

  private final String host;
  private final int port;
  private final String path;
  private final int clients;
  private final boolean connectionPerRequest;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private volatile boolean signalled;
  private final List<Thread> threads = new ArrayList<>();
  private final Map<Outcome, AtomicLong> before = counters();
  private final Map<Outcome, AtomicLong> after = counters();
  private final Set<String> ids = ConcurrentHashMap.newKeySet();
  private final AtomicLong oks = new AtomicLong();
  private final AtomicLong connections = new AtomicLong();
  private final List<Threshold> thresholds = new CopyOnWriteArrayList<>();
  private long paceNanos;
  private String body;

  private record Threshold(long oks, CompletableFuture<Void> reached) {}

  LoadClient(String host, int port, String path, int clients) {
    this(host, port, path, clients, false);
  }

  /**
   * @param connectionPerRequest close each connection after its answer, as curl in a loop does
   */
  LoadClient(String host, int port, String path, int clients, boolean connectionPerRequest) {
    this.host = host;
    this.port = port;
    this.path = path;
    this.clients = clients;
    this.connectionPerRequest = connectionPerRequest;
  }

  /**
   * Each client sends a request every {@code intervalMs} instead of as fast as it can: traffic a
   * quiet instance sees. Call before {@link #start}.
   */
  LoadClient paced(long intervalMs) {
    this.paceNanos = TimeUnit.MILLISECONDS.toNanos(intervalMs);
    return this;
  }

  /**
   * Each request is a {@code POST} of {@code json} instead of a {@code GET}; a 201 counts as OK as
   * a 200 does. Call before {@link #start}.
   */
  public LoadClient posting(String json) {
    this.body = json;
    return this;
  }

  /** Completes once {@code n} requests in all have been answered OK. */
  CompletableFuture<Void> oks(long n) {
    Threshold t = new Threshold(n, new CompletableFuture<>());
    thresholds.add(t);
    if (oks.get() >= n) {
      t.reached().complete(null);
    }
    return t.reached();
  }

  private static Map<Outcome, AtomicLong> counters() {
    Map<Outcome, AtomicLong> map = new EnumMap<>(Outcome.class);
    for (Outcome o : Outcome.values()) {
      map.put(o, new AtomicLong());
    }
    return map;
  }

  void start() {
    for (int i = 0; i < clients; i++) {
      Thread t = new Thread(this::loop, "load-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  /** From now on, newly opened connections count as opened after the signal. */
  void markSignal() {
    signalled = true;
  }

  /** Stops every client and waits for them. */
  void stop() throws InterruptedException {
    running.set(false);
    for (Thread t : threads) {
      t.join(15_000);
    }
  }

  private void loop() {
    RawHttp conn = null;
    boolean openedAfter = false;
    long next = System.nanoTime();
    while (running.get()) {
      if (paceNanos > 0) {
        // The next request's slot, whatever the last one took.
        next += paceNanos;
        LockSupport.parkNanos(next - System.nanoTime());
        if (!running.get()) {
          break;
        }
      }
      if (conn == null) {
        openedAfter = signalled;
        try {
          conn = new RawHttp(host, port, 10_000);
          connections.incrementAndGet();
        } catch (IOException e) {
          // Nothing was sent: refused (or the connect timed out). Keep trying until stopped.
          record(openedAfter, Outcome.REFUSED);
          continue;
        }
      }
      Outcome outcome;
      boolean close = true;
      try {
        RawHttp.Response r = body == null ? conn.get(path) : conn.postJson(path, body);
        if (r.status() == 200 || r.status() == 201) {
          outcome = Outcome.OK;
          long n = oks.incrementAndGet();
          for (Threshold t : thresholds) {
            if (n >= t.oks()) {
              t.reached().complete(null);
            }
          }
          Matcher m = ID.matcher(r.body());
          if (m.find()) {
            ids.add(m.group(1));
          }
        } else if (r.status() == 503) {
          outcome = Outcome.UNAVAILABLE_503;
        } else if (r.status() >= 500) {
          outcome = Outcome.OTHER_5XX;
        } else {
          outcome = Outcome.OTHER_STATUS;
        }
        close = r.connectionClose() || connectionPerRequest;
      } catch (RawHttp.Truncated e) {
        outcome = e.partial ? Outcome.PARTIAL : Outcome.EOF;
      } catch (SocketTimeoutException e) {
        outcome = Outcome.TIMEOUT;
      } catch (SocketException e) {
        outcome = Outcome.RESET;
      } catch (IOException e) {
        outcome = Outcome.RESET;
      }
      record(openedAfter, outcome);
      if (close) {
        closeQuietly(conn);
        conn = null;
      }
    }
    if (conn != null) {
      closeQuietly(conn);
    }
  }

  private void record(boolean openedAfter, Outcome outcome) {
    (openedAfter ? after : before).get(outcome).incrementAndGet();
  }

  private static void closeQuietly(RawHttp conn) {
    try {
      conn.close();
    } catch (IOException ignored) {
      // already gone
    }
  }

  long count(boolean openedAfter, Outcome outcome) {
    return (openedAfter ? after : before).get(outcome).get();
  }

  public long total(Outcome outcome) {
    return count(false, outcome) + count(true, outcome);
  }

  /**
   * Attempts on connections opened before (false) or after (true) the signal that lost a request.
   */
  long failures(boolean openedAfter) {
    long n = 0;
    for (Outcome o : Outcome.values()) {
      if (o.failed) {
        n += count(openedAfter, o);
      }
    }
    return n;
  }

  /** Connections the clients opened, including each one's first. */
  long connections() {
    return connections.get();
  }

  /** The ids in the OK answers' bodies. */
  public Set<String> ids() {
    return ids;
  }

  /** The counts as one JSON object. */
  public String json() {
    StringBuilder sb = new StringBuilder("{\"path\":\"").append(path).append('"');
    sb.append(",\"clients\":").append(clients);
    sb.append(",\"failedBefore\":").append(failures(false));
    sb.append(",\"failedAfter\":").append(failures(true));
    for (boolean openedAfter : new boolean[] {false, true}) {
      sb.append(",\"").append(openedAfter ? "after" : "before").append("\":{");
      boolean first = true;
      for (Outcome o : Outcome.values()) {
        sb.append(first ? "" : ",")
            .append('"')
            .append(o)
            .append("\":")
            .append(count(openedAfter, o));
        first = false;
      }
      sb.append('}');
    }
    return sb.append('}').toString();
  }

  @Override
  public String toString() {
    return json();
  }
}
