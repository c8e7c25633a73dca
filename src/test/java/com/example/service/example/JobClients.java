package com.example.service.example;

import com.example.service.RawHttp;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Clients that create jobs with {@code POST /work}, each on a keep-alive connection of its own (and
 * a new one when the server closes it), each job under a unique {@code Idempotency-Key} or none.
 * They keep what every job got: an id, or no answer (a 503, or a connection that ended first), so
 * that a test can compare what clients were told with what the database holds, and retry what was
 * not answered.
 */
final class JobClients {

  private static final Pattern ID = Pattern.compile("\"id\":\"([^\"]+)\"");

  private final int port;
  private final int clients;
  private final int ms;
  private final boolean keyed;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final List<Thread> threads = new ArrayList<>();

  /** Key (or, without keys, a client-side request name) → the id the client was given. */
  private final Map<String, String> acked = new ConcurrentHashMap<>();

  /** Requests sent that got no id: a 503, or no answer. */
  private final Set<String> unanswered = ConcurrentHashMap.newKeySet();

  private final AtomicLong others = new AtomicLong();
  private final AtomicLong answered = new AtomicLong();
  private final CompletableFuture<Void> enough = new CompletableFuture<>();
  private volatile long enoughAt = Long.MAX_VALUE;
  private final AtomicLong sent = new AtomicLong();
  private final CompletableFuture<Void> allSent = new CompletableFuture<>();
  private volatile long sentAt = Long.MAX_VALUE;

  JobClients(int port, int clients, int ms, boolean keyed) {
    this.port = port;
    this.clients = clients;
    this.ms = ms;
    this.keyed = keyed;
  }

  void start() {
    for (int i = 0; i < clients; i++) {
      int client = i;
      Thread t = new Thread(() -> loop(client), "jobs-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  /** Completes once {@code n} jobs in all have been acknowledged. */
  CompletableFuture<Void> acked(long n) {
    enoughAt = n;
    if (answered.get() >= n) {
      enough.complete(null);
    }
    return enough;
  }

  private void loop(int client) {
    RawHttp conn = null;
    for (int n = 0; running.get(); n++) {
      if (conn == null) {
        try {
          conn = new RawHttp("127.0.0.1", port, 30_000);
        } catch (IOException e) {
          // Refused: nothing was sent. The listener has closed; this client is done.
          return;
        }
      }
      String key = "c" + client + "-" + n;
      boolean close = true;
      try {
        conn.write(request(key));
        if (sent.incrementAndGet() >= sentAt) {
          allSent.complete(null);
        }
        RawHttp.Response r = conn.read();
        close = r.connectionClose();
        Matcher id = ID.matcher(r.body());
        if (r.status() == 201 && id.find()) {
          acked.put(key, id.group(1));
          if (answered.incrementAndGet() >= enoughAt) {
            enough.complete(null);
          }
        } else if (r.status() == 503) {
          unanswered.add(key);
        } else {
          others.incrementAndGet();
        }
      } catch (IOException e) {
        unanswered.add(key);
      }
      if (close) {
        closeQuietly(conn);
        conn = null;
      }
    }
    if (conn != null) {
      closeQuietly(conn);
    }
  }

  private String request(String key) {
    String body = "{\"ms\":" + ms + "}";
    return "POST /work HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + (keyed ? "Idempotency-Key: " + key + "\r\n" : "")
        + "Content-Length: "
        + body.length()
        + "\r\n\r\n"
        + body;
  }

  /**
   * Sends the requests of {@code keys} again, with their keys, to {@code port}, all at once, one
   * connection each; returns the id each got with a 201.
   */
  Map<String, String> resend(int port, Set<String> keys) throws Exception {
    Map<String, String> ids = new ConcurrentHashMap<>();
    ExecutorService senders = Executors.newFixedThreadPool(Math.max(1, keys.size()));
    try {
      List<Future<?>> sends = new ArrayList<>();
      for (String key : keys) {
        sends.add(
            senders.submit(
                () -> {
                  try (RawHttp conn = new RawHttp("127.0.0.1", port, 30_000)) {
                    conn.write(request(key));
                    RawHttp.Response r = conn.read();
                    Matcher id = ID.matcher(r.body());
                    if (r.status() == 201 && id.find()) {
                      ids.put(key, id.group(1));
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> send : sends) {
        send.get();
      }
    } finally {
      senders.shutdownNow();
    }
    return new HashMap<>(ids);
  }

  /** Completes once {@code n} requests in all have been sent. */
  CompletableFuture<Void> sent(int n) {
    sentAt = n;
    if (sent.get() >= n) {
      allSent.complete(null);
    }
    return allSent;
  }

  /** Stops the clients and waits for them. */
  void stop() throws InterruptedException {
    running.set(false);
    for (Thread t : threads) {
      t.join(40_000);
    }
  }

  /** The ids clients were given. */
  Set<String> ackedIds() {
    return Set.copyOf(acked.values());
  }

  Set<String> unanswered() {
    return Set.copyOf(unanswered);
  }

  /** Answers other than 201 and 503: none is expected. */
  long others() {
    return others.get();
  }

  private static void closeQuietly(RawHttp conn) {
    try {
      conn.close();
    } catch (IOException ignored) {
      // already gone
    }
  }
}
