package com.example.service;

import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;

/**
 * A closed-loop load through a real HTTP client library, as an application would use it: each
 * worker sends its next request as soon as the previous one returned, through one shared client
 * with the library's default connection pool and retries. Every error the library surfaces counts
 * as a failure, except a refused connect (nothing was sent).
 */
final class LibraryLoad implements AutoCloseable {

  /** One GET through the library; returns the status and body, throws what the library throws. */
  private interface Get {
    Reply reply() throws Exception;
  }

  private record Reply(int status, String body) {}

  /** The client libraries the tests use. */
  enum Library {
    JDK,
    OKHTTP,
    /** OkHttp over HTTP/2 with prior knowledge (h2c). */
    OKHTTP_H2C
  }

  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicLong ok = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final Map<String, AtomicLong> failures = new ConcurrentHashMap<>();
  private final Set<String> bodies = ConcurrentHashMap.newKeySet();
  private final CompletableFuture<Void> warm = new CompletableFuture<>();
  private final ExecutorService workers;
  private final ExecutorService clientPool = Executors.newFixedThreadPool(4);
  private final Library library;
  private final long warmOks;
  private final Get get;
  private OkHttpClient okhttp;

  LibraryLoad(Library library, int port, String path, int workers, long warmOks) {
    this.library = library;
    this.warmOks = warmOks;
    this.workers = Executors.newFixedThreadPool(workers);
    URI uri = URI.create("http://127.0.0.1:" + port + path);
    if (library == Library.JDK) {
      HttpClient client =
          HttpClient.newBuilder()
              .executor(clientPool)
              .connectTimeout(Duration.ofSeconds(5))
              .build();
      HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build();
      get =
          () -> {
            HttpResponse<String> response =
                client.send(request, HttpResponse.BodyHandlers.ofString());
            return new Reply(response.statusCode(), response.body());
          };
    } else {
      OkHttpClient.Builder builder =
          new OkHttpClient.Builder()
              .dispatcher(new okhttp3.Dispatcher(clientPool))
              .connectTimeout(Duration.ofSeconds(5))
              .readTimeout(Duration.ofSeconds(10));
      if (library == Library.OKHTTP_H2C) {
        builder.protocols(List.of(Protocol.H2_PRIOR_KNOWLEDGE));
      }
      okhttp = builder.build();
      Request request = new Request.Builder().url(uri.toString()).build();
      get =
          () -> {
            try (Response response = okhttp.newCall(request).execute()) {
              return new Reply(response.code(), response.body().string());
            }
          };
    }
    for (int i = 0; i < workers; i++) {
      this.workers.execute(this::loop);
    }
  }

  private void loop() {
    while (running.get()) {
      try {
        Reply reply = get.reply();
        int status = reply.status();
        if (status == 200) {
          if (reply.body().length() < 64) {
            bodies.add(reply.body());
          }
          if (ok.incrementAndGet() >= warmOks) {
            warm.complete(null);
          }
        } else {
          fail("status " + status);
        }
      } catch (Exception e) {
        if (refused(e)) {
          refused.incrementAndGet();
        } else {
          Throwable root = e;
          while (root.getCause() != null) {
            root = root.getCause();
          }
          fail(e.getClass().getSimpleName() + ": " + e.getMessage() + " (" + root + ")");
        }
      }
    }
  }

  /**
   * A refused connect, however the library wraps it: nothing was sent. OkHttp says "Connection
   * refused"; JDK 17's HttpClient throws a {@link ConnectException} without a message, caused by a
   * {@link ClosedChannelException}, as a request to a closed port shows.
   */
  private static boolean refused(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConnectException
          && (String.valueOf(t.getMessage()).contains("refused")
              || t.getMessage() == null && t.getCause() instanceof ClosedChannelException)) {
        return true;
      }
    }
    return false;
  }

  private void fail(String what) {
    failures.computeIfAbsent(what, k -> new AtomicLong()).incrementAndGet();
  }

  /** Completes once {@code warmOks} requests have been answered 200. */
  CompletableFuture<Void> warm() {
    return warm;
  }

  long ok() {
    return ok.get();
  }

  /** The distinct short bodies answered 200: e.g. one per connection, from a route that says so. */
  Set<String> bodies() {
    return bodies;
  }

  long failed() {
    return failures.values().stream().mapToLong(AtomicLong::get).sum();
  }

  @Override
  public void close() throws InterruptedException {
    running.set(false);
    workers.shutdown();
    workers.awaitTermination(20, TimeUnit.SECONDS);
    clientPool.shutdownNow();
    if (okhttp != null) {
      okhttp.connectionPool().evictAll();
    }
  }

  @Override
  public String toString() {
    List<String> failed = new ArrayList<>();
    failures.forEach((k, v) -> failed.add(v.get() + " × " + k));
    return library
        + ": ok="
        + ok.get()
        + " refused="
        + refused.get()
        + " failed="
        + failed()
        + (failed.isEmpty() ? "" : " " + failed);
  }
}
