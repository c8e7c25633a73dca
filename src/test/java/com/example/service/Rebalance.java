package com.example.service;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * HTTP_MAX_CONNECTION_AGE_MS behind an L4 balancer: HAProxy in {@code mode tcp} in front of three
 * instances, 16 clients with one long-lived connection each, and a fourth instance started 10 s
 * into the load. Each client asks {@code /peer}, whose answer names the instance; the report is
 * each instance's share of the requests in the two ages after the fourth started listening (10 s
 * without an age), and the failed requests.
 *
 * <p>Run as a program ({@code deploy/rebalance-local.sh}): arguments {@code http1|h2c|h2load
 * [maxConnectionAgeMs]}. HTTP/1.1 clients are raw sockets that reconnect when told to close; HTTP/2
 * clients are Vert.x's HttpClient with prior knowledge, one connection each; h2load only counts
 * (see {@link #h2load}).
 */
final class Rebalance implements AutoCloseable {

  private static final int INSTANCES = 4;
  private static final int CLIENTS = 16;
  private static final long FOURTH_AFTER_MS = 10_000;

  /** One request from a client; returns the answering instance's port, throws on any failure. */
  private interface Client extends AutoCloseable {
    int peer() throws Exception;
  }

  private final Path dir;
  private final String protocol;
  private final long ageMs;
  private final int[] ports = new int[INSTANCES];
  private final ServiceProcess[] instances = new ServiceProcess[INSTANCES];
  private final int frontPort;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicLong failed = new AtomicLong();
  private final Map<String, AtomicLong> failures = new ConcurrentHashMap<>();
  private final List<Thread> threads = new ArrayList<>();

  /** The instance port of each client's last answer: where its connection is. */
  private final AtomicIntegerArray lastPort = new AtomicIntegerArray(CLIENTS);

  private final Vertx vertx = Vertx.vertx();
  private Process haproxy;

  /** Requests answered per instance port, counted only while {@link #window} is set. */
  private volatile Map<Integer, AtomicLong> window;

  Rebalance(Path dir, String protocol, long ageMs) throws IOException {
    this.dir = dir;
    this.protocol = protocol;
    this.ageMs = ageMs;
    for (int i = 0; i < INSTANCES; i++) {
      ports[i] = RollingRestart.freePort();
    }
    frontPort = RollingRestart.freePort();
  }

  String run() throws Exception {
    for (int i = 0; i < INSTANCES - 1; i++) {
      instances[i] = startInstance(i);
    }
    for (int i = 0; i < INSTANCES - 1; i++) {
      warm(instances[i]);
    }
    startHaproxy();
    awaitHaproxy();
    if (protocol.equals("h2load")) {
      return h2load();
    }
    for (int c = 0; c < CLIENTS; c++) {
      Client client = protocol.equals("h2c") ? h2c() : new Http1();
      int index = c;
      Thread t = new Thread(() -> loop(index, client), "client-" + c);
      threads.add(t);
      t.start();
    }
    Thread.sleep(FOURTH_AFTER_MS); // the load runs on the three instances first
    instances[INSTANCES - 1] = startInstance(INSTANCES - 1);
    warm(instances[INSTANCES - 1]);
    long windowMs = ageMs > 0 ? 2 * ageMs : 10_000;
    Map<Integer, AtomicLong> first = counters();
    window = first;
    Thread.sleep(windowMs / 2); // the measured window
    String clientsAfterFirst = clients();
    Map<Integer, AtomicLong> second = counters();
    window = second;
    Thread.sleep(windowMs / 2);
    window = null;
    String clientsAfterSecond = clients();
    running.set(false);
    for (Thread t : threads) {
      t.join(15_000);
    }
    return "L4 balancer (HAProxy mode tcp), "
        + CLIENTS
        + " "
        + protocol
        + " clients, HTTP_MAX_CONNECTION_AGE_MS="
        + ageMs
        + ", a fourth instance started after "
        + FOURTH_AFTER_MS
        + " ms. Requests per instance in the "
        + windowMs / 2
        + " ms after it listened: "
        + shares(first)
        + " (clients per instance at its end: "
        + clientsAfterFirst
        + "); in the next "
        + windowMs / 2
        + " ms: "
        + shares(second)
        + " (clients per instance at its end: "
        + clientsAfterSecond
        + "); failed requests: "
        + failed.get()
        + (failures.isEmpty() ? "" : " " + failures);
  }

  long failed() {
    return failed.get();
  }

  /**
   * h2load's 16 connections through the same balancer, 30 s, the fourth instance started after 10
   * s. h2load never reconnects after a GOAWAY, so it cannot show the rebalancing (a connection told
   * to go ends that client's run); it shows that no request it sent fails.
   */
  private String h2load() throws Exception {
    try (H2load load =
        H2load.start(dir, List.of(), "http://127.0.0.1:" + frontPort + "/peer", CLIENTS, 1, 30)) {
      Thread.sleep(FOURTH_AFTER_MS); // the load runs on the three instances first
      instances[INSTANCES - 1] = startInstance(INSTANCES - 1);
      warm(instances[INSTANCES - 1]);
      H2load.Counts counts = load.counts(90);
      failed.addAndGet(counts.failedAfterSending() + counts.status5xx() + counts.timeout());
      return "L4 balancer (HAProxy mode tcp), h2load with "
          + CLIENTS
          + " connections, HTTP_MAX_CONNECTION_AGE_MS="
          + ageMs
          + ", a fourth instance started after "
          + FOURTH_AFTER_MS
          + " ms: "
          + counts.json();
    }
  }

  private Map<Integer, AtomicLong> counters() {
    Map<Integer, AtomicLong> counts = new ConcurrentHashMap<>();
    for (int port : ports) {
      counts.put(port, new AtomicLong());
    }
    return counts;
  }

  /** How many clients' last answer came from each instance, "a/b/c/d". */
  private String clients() {
    int[] on = new int[INSTANCES];
    for (int c = 0; c < CLIENTS; c++) {
      for (int i = 0; i < INSTANCES; i++) {
        if (lastPort.get(c) == ports[i]) {
          on[i]++;
        }
      }
    }
    return on[0] + "/" + on[1] + "/" + on[2] + "/" + on[3];
  }

  /** "instance 1: n (p%), ...", the fourth last. */
  private String shares(Map<Integer, AtomicLong> counts) {
    long total = counts.values().stream().mapToLong(AtomicLong::get).sum();
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < INSTANCES; i++) {
      long n = counts.get(ports[i]).get();
      sb.append(i == 0 ? "" : ", ")
          .append("instance ")
          .append(i + 1)
          .append(": ")
          .append(n)
          .append(String.format(" (%.1f%%)", total == 0 ? 0.0 : 100.0 * n / total));
    }
    return sb.toString();
  }

  private void loop(int index, Client client) {
    try (client) {
      while (running.get()) {
        try {
          int port = client.peer();
          lastPort.set(index, port);
          Map<Integer, AtomicLong> counts = window;
          if (counts != null) {
            counts.get(port).incrementAndGet();
          }
        } catch (Exception e) {
          failed.incrementAndGet();
          failures
              .computeIfAbsent(e.getClass().getSimpleName(), k -> new AtomicLong())
              .incrementAndGet();
        }
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A raw-socket keep-alive client: reconnects only when a response says to close. */
  private final class Http1 implements Client {
    private RawHttp conn;

    @Override
    public int peer() throws Exception {
      if (conn == null) {
        conn = new RawHttp("127.0.0.1", frontPort, 10_000);
      }
      try {
        RawHttp.Response r = conn.get("/peer");
        if (r.status() != 200) {
          throw new IOException("status " + r.status());
        }
        if (r.connectionClose()) {
          close();
        }
        return Integer.parseInt(r.body().split(" ")[0]);
      } catch (IOException e) {
        close();
        throw e;
      }
    }

    @Override
    public void close() throws IOException {
      if (conn != null) {
        conn.close();
        conn = null;
      }
    }
  }

  /** Vert.x's HTTP/2 client with prior knowledge and one connection: it reconnects on a GOAWAY. */
  private Client h2c() {
    io.vertx.core.http.HttpClient client =
        vertx
            .httpClientBuilder()
            .with(
                new HttpClientOptions()
                    .setProtocolVersion(HttpVersion.HTTP_2)
                    .setHttp2ClearTextUpgrade(false))
            .with(new PoolOptions().setHttp2MaxSize(1))
            .build();
    return new Client() {
      @Override
      public int peer() throws Exception {
        String body =
            client
                .request(HttpMethod.GET, frontPort, "127.0.0.1", "/peer")
                .compose(
                    req ->
                        req.send()
                            .compose(
                                resp -> {
                                  if (resp.statusCode() != 200) {
                                    throw new IllegalStateException("status " + resp.statusCode());
                                  }
                                  return resp.body();
                                }))
                .toCompletionStage()
                .toCompletableFuture()
                .get(10, TimeUnit.SECONDS)
                .toString();
        return Integer.parseInt(body.split(" ")[0]);
      }

      @Override
      public void close() {
        client.close();
      }
    };
  }

  private ServiceProcess startInstance(int i) throws IOException {
    Path instanceDir = Files.createDirectories(dir.resolve("app" + (i + 1)));
    return ServiceProcess.start(
            instanceDir,
            Map.of(
                "HTTP_PORT", Integer.toString(ports[i]),
                "HTTP_INSTANCES", "2",
                "HTTP_MAX_CONNECTION_AGE_MS", Long.toString(ageMs)))
        .quiet();
  }

  /**
   * HAProxy as an L4 balancer: each client connection is spliced to one instance, as a Kubernetes
   * Service or a cloud NLB does; of those its checks find ready, to the one with the fewest
   * connections (HAProxy's round robin, here, gave a server that came up none of the next 16).
   */
  private void startHaproxy() throws IOException {
    StringBuilder cfg =
        new StringBuilder(
            """
            global
                maxconn 4096
                log stdout format raw local0 info
            defaults
                mode tcp
                log global
                option tcplog
                timeout connect 2s
                timeout client 65s
                timeout server 65s
                retries 3
                option redispatch 1
            frontend l4
                bind 127.0.0.1:%d
                default_backend app
            backend app
                # Long-lived connections: each new one goes to the instance with the fewest.
                balance leastconn
                option httpchk GET /health/ready
                timeout check 2s
                default-server check inter 500ms fall 2 rise 2
            """
                .formatted(frontPort));
    for (int i = 0; i < INSTANCES; i++) {
      cfg.append("    server app%d 127.0.0.1:%d\n".formatted(i + 1, ports[i]));
    }
    haproxy = RollingRestart.haproxy(dir, "haproxy-l4.cfg", cfg);
  }

  /** Once it listens, one readiness check: HAProxy's first must not time out on a cold JVM. */
  private static void warm(ServiceProcess instance) throws Exception {
    try (RawHttp conn = new RawHttp("127.0.0.1", instance.port(), 10_000)) {
      conn.get("/health/ready");
    }
  }

  /** Until HAProxy accepts connections: a client started earlier would be refused. */
  private void awaitHaproxy() throws Exception {
    for (int attempt = 0; ; attempt++) {
      try (java.net.Socket probe = new java.net.Socket("127.0.0.1", frontPort)) {
        return;
      } catch (IOException notYet) {
        if (attempt == 200 || !haproxy.isAlive()) {
          throw new IllegalStateException(
              "haproxy did not listen:\n" + Files.readString(dir.resolve("haproxy.log")));
        }
        Thread.sleep(50);
      }
    }
  }

  @Override
  public void close() {
    running.set(false);
    for (ServiceProcess p : instances) {
      if (p != null) {
        p.close();
      }
    }
    if (haproxy != null) {
      haproxy.destroyForcibly();
    }
    vertx.close();
  }

  public static void main(String[] args) throws Exception {
    String protocol = args.length > 0 ? args[0] : "http1";
    if (!List.of("http1", "h2c", "h2load").contains(protocol)) {
      System.err.println("usage: rebalance-local.sh http1|h2c|h2load [maxConnectionAgeMs]");
      System.exit(2);
    }
    long ageMs = args.length > 1 ? Long.parseLong(args[1]) : 5000;
    String report;
    long failed;
    Path dir = Files.createTempDirectory("rebalance");
    try (Rebalance topology = new Rebalance(dir, protocol, ageMs)) {
      report = topology.run();
      failed = topology.failed();
    }
    System.out.println(report);
    System.out.println("HAProxy's log: " + dir.resolve("haproxy.log"));
    System.exit(failed == 0 ? 0 : 1);
  }
}
