package com.example.service;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The benchmark behind {@code bench/run.sh}: the template against a bare Vert.x baseline ({@link
 * BaselineMain}) in the same run, alternating A B A B so a noisy machine does not decide the
 * result. Prints one table and writes the figures as JSON.
 *
 * <p>Arguments: {@code rounds throughputSeconds resultFile httpInstances}; both servers run {@code
 * httpInstances} event loops.
 */
public final class Benchmark {

  /** The flags the Dockerfile gives the JVM. */
  static final List<String> CONTAINER_FLAGS =
      List.of("-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError");

  /**
   * A heap of fixed size for both servers: the 576 MiB the image's {@code -XX:MaxRAMPercentage=75}
   * gives in the 768 MiB limit of the compose file and the Kubernetes manifest.
   */
  static final List<String> FIXED_HEAP_FLAGS = List.of("-Xms576m", "-Xmx576m");

  private static final int CONNECTIONS = 32;
  private static final int SLOWLORIS = 200;
  private static final int SLOWLORIS_HEAD_TIMEOUT_MS = 5000;

  private static final int IN_FLIGHT = 20;
  private static final int CLIENT_WORKERS = 16;
  private static final int CLIENT_RUNS = 3;

  /** HTTP/2 load: h2load's connections and concurrent streams per connection. */
  private static final int H2_CONNECTIONS = 16;

  private static final int H2_STREAMS = 10;
  private static final int H2_LOSS_RUNS = 3;

  private record Variant(String name, List<String> javaArgs) {}

  private final Variant template = new Variant("template", ServiceProcess.testMain());
  private final Variant baseline =
      new Variant(
          "baseline",
          List.of(
              "-cp",
              ServiceProcess.classPath(ServiceProcess.testClasses()),
              BaselineMain.class.getName()));
  private final Path scratch = Files.createTempDirectory("bench");
  private final int rounds;
  private final int seconds;
  private final int instances;

  /**
   * With one event loop, throughput runs pin the service to one core and wrk to another, so the two
   * do not fight over the CPU and the runs agree with each other; without that, two runs of the
   * same build on 2 cores differed by 15%. With more loops the service gets every core, and shares
   * them with wrk.
   */
  private final boolean pin;

  private final List<String> serviceCore;
  private final List<String> wrkCore;

  private Benchmark(int rounds, int seconds, int instances) throws IOException {
    this.rounds = rounds;
    this.seconds = seconds;
    this.instances = instances;
    pin = instances == 1 && Runtime.getRuntime().availableProcessors() >= 2;
    serviceCore = pin ? List.of("taskset", "-c", "1") : List.of();
    wrkCore = pin ? List.of("taskset", "-c", "0") : List.of();
  }

  public static void main(String[] args) throws Exception {
    int rounds = Integer.parseInt(args[0]);
    int seconds = Integer.parseInt(args[1]);
    Path out = Path.of(args[2]);
    int instances = Integer.parseInt(args[3]);
    JsonObject results = new Benchmark(rounds, seconds, instances).run();
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, results.encodePrettily());
    System.out.println();
    System.out.println(
        results.containsKey("loss")
            ? table(results)
            : results.containsKey("slowloris")
                ? connectionLayerTable(results)
                : fixedHeapTable(results));
    System.out.println("figures: " + out);
    System.exit(0);
  }

  private JsonObject run() throws Exception {
    JsonObject results =
        new JsonObject()
            .put("date", Instant.now().toString())
            .put("machine", machine())
            .put("rounds", rounds)
            .put("throughputSeconds", seconds)
            .put("connections", CONNECTIONS)
            .put("pinned", pin)
            .put("httpInstances", instances)
            .put("jarBytes", Files.size(Path.of(ServiceProcess.jar())));

    if ("connection-layer".equals(System.getenv("BENCH"))) {
      return connectionLayer(results);
    }
    if ("memory".equals(System.getenv("BENCH"))) {
      return fixedHeap(results);
    }

    // Throughput and latency, A B A B; RSS read right after each run.
    JsonArray tRuns = new JsonArray();
    JsonArray offRuns = new JsonArray();
    JsonArray perRequestRuns = new JsonArray();
    JsonArray bRuns = new JsonArray();
    JsonArray h2tRuns = new JsonArray();
    JsonArray h2bRuns = new JsonArray();
    for (int i = 0; i < rounds; i++) {
      tRuns.add(throughput(template, List.of(), Map.of()));
      offRuns.add(throughput(template, List.of(), Map.of("METRICS_ENABLED", "false")));
      perRequestRuns.add(throughput(template, List.of(), Map.of("METRICS_HTTP_REQUESTS", "true")));
      bRuns.add(throughput(baseline, List.of(), Map.of()));
      h2tRuns.add(h2Throughput(template, List.of()));
      h2bRuns.add(h2Throughput(baseline, List.of()));
    }
    JsonObject containerRun = throughput(template, CONTAINER_FLAGS, Map.of());
    results.put(
        "throughput",
        new JsonObject()
            .put("template", summary(tRuns))
            .put("baseline", summary(bRuns))
            .put("templateMetricsOff", summary(offRuns))
            .put("metricsCost", 1 - median(tRuns, "rps") / median(offRuns, "rps"))
            .put("templateHttpRequestMetrics", summary(perRequestRuns))
            .put(
                "httpRequestMetricsCost",
                1 - median(perRequestRuns, "rps") / median(offRuns, "rps"))
            .put("templateContainerFlags", containerRun)
            .put("ratio", median(tRuns, "rps") / median(bRuns, "rps"))
            .put("http2Template", h2Summary(h2tRuns))
            .put("http2Baseline", h2Summary(h2bRuns))
            .put("paired", paired(tRuns, bRuns, h2tRuns, h2bRuns)));

    // /hello while 200 slowloris connections dribble a request head, one byte a second each.
    results.put("slowloris", new JsonArray().add(slowloris(template)).add(slowloris(baseline)));

    // Startup: process start to the first 200 on /hello.
    List<Double> tStart = new ArrayList<>();
    List<Double> bStart = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      tStart.add(startupMs(template));
      bStart.add(startupMs(baseline));
    }
    results.put(
        "startupMs",
        new JsonObject().put("template", median(tStart)).put("baseline", median(bStart)));

    // Shutdown timing.
    List<Double> tIdle = new ArrayList<>();
    List<Double> bIdle = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      tIdle.add(idleShutdownMs(template));
      bIdle.add(idleShutdownMs(baseline));
    }
    JsonArray inFlight = new JsonArray();
    for (int i = 0; i < 5; i++) {
      inFlight.add(inFlightShutdown());
    }
    results.put(
        "shutdown",
        new JsonObject()
            .put(
                "idleSigtermToExitMs",
                new JsonObject().put("template", median(tIdle)).put("baseline", median(bIdle)))
            .put("inFlight", inFlight)
            .put("lastResponseToExitMsMedian", median(inFlight, "lastResponseToExitMs")));

    // Shutdown loss under closed-loop load.
    JsonArray loss = new JsonArray();
    for (int clients : new int[] {16, 64}) {
      loss.add(loss(template, clients, 0));
      loss.add(loss(template, clients, 1000));
      loss.add(loss(baseline, clients, 0));
    }
    results.put("loss", loss);

    // The same over HTTP/2: h2load mid-load, SIGTERM.
    JsonArray h2Loss = new JsonArray();
    for (int i = 0; i < H2_LOSS_RUNS; i++) {
      h2Loss.add(h2Loss(template, 0));
      h2Loss.add(h2Loss(template, 1000));
      h2Loss.add(h2Loss(baseline, 0));
    }
    results.put("http2Loss", h2Loss);

    // The same SIGTERM mid-load, seen through client libraries made by others.
    JsonArray clientRuns = new JsonArray();
    List<ExternalClient.Kind> kinds = ExternalClient.available();
    for (ExternalClient.Kind kind : kinds) {
      for (int i = 0; i < CLIENT_RUNS; i++) {
        clientRuns.add(clientLoss(kind, template, 0));
        clientRuns.add(clientLoss(kind, template, 1000));
        clientRuns.add(clientLoss(kind, baseline, 0));
      }
    }
    results.put("clients", clientRuns);
    return results;
  }

  /**
   * What the connection layer costs: {@code /hello} over HTTP/1.1 and HTTP/2, template and bare
   * Vert.x alternating, paired by round; then both under slow-head connections of both protocols.
   */
  private JsonObject connectionLayer(JsonObject results) throws Exception {
    results.put("throughput", pairedRounds(List.of()));
    results.put("slowloris", new JsonArray().add(slowloris(template)).add(slowloris(baseline)));
    return results;
  }

  /**
   * The rounds of {@link #connectionLayer} with both servers on a heap of fixed size ({@link
   * #FIXED_HEAP_FLAGS}). With the JVM's defaults G1 sizes the heap by how long its pauses take, and
   * under the same load one start of either server commits a heap about a fifth larger than the
   * next; with the size fixed, RSS compares what each server holds.
   */
  private JsonObject fixedHeap(JsonObject results) throws Exception {
    results.put("flags", String.join(" ", FIXED_HEAP_FLAGS));
    results.put("throughput", pairedRounds(FIXED_HEAP_FLAGS));
    return results;
  }

  /**
   * {@code /hello} over HTTP/1.1 and HTTP/2, template and bare Vert.x alternating, both with the
   * JVM flags {@code flags}: each run's figures, their medians, and the per-pair ratios.
   */
  private JsonObject pairedRounds(List<String> flags) throws Exception {
    JsonArray tRuns = new JsonArray();
    JsonArray bRuns = new JsonArray();
    JsonArray h2tRuns = new JsonArray();
    JsonArray h2bRuns = new JsonArray();
    for (int i = 0; i < rounds; i++) {
      tRuns.add(throughput(template, flags, Map.of()));
      bRuns.add(throughput(baseline, flags, Map.of()));
      h2tRuns.add(h2Throughput(template, flags));
      h2bRuns.add(h2Throughput(baseline, flags));
    }
    return new JsonObject()
        .put("template", summary(tRuns))
        .put("baseline", summary(bRuns))
        .put("http2Template", h2Summary(h2tRuns))
        .put("http2Baseline", h2Summary(h2bRuns))
        .put("paired", paired(tRuns, bRuns, h2tRuns, h2bRuns));
  }

  /**
   * Template/baseline per round (the rounds alternate, so a pair shares the machine's state): the
   * median ratio and its spread, for req/s, the server's CPU time per request and its RSS after the
   * load.
   */
  private static JsonObject paired(
      JsonArray http1Template,
      JsonArray http1Baseline,
      JsonArray http2Template,
      JsonArray http2Baseline) {
    return new JsonObject()
        .put("http1Rps", ratios(http1Template, http1Baseline, "rps"))
        .put("http1CpuPerRequest", ratios(http1Template, http1Baseline, "cpuUsPerRequest"))
        .put("http2Rps", ratios(http2Template, http2Baseline, "rps"))
        .put("http2CpuPerRequest", ratios(http2Template, http2Baseline, "cpuUsPerRequest"))
        .put("http1Rss", ratios(http1Template, http1Baseline, "rssMiB"))
        .put("http2Rss", ratios(http2Template, http2Baseline, "rssMiB"));
  }

  private static JsonObject ratios(JsonArray template, JsonArray baseline, String key) {
    List<Double> ratios = new ArrayList<>();
    for (int i = 0; i < template.size(); i++) {
      ratios.add(
          template.getJsonObject(i).getDouble(key) / baseline.getJsonObject(i).getDouble(key));
    }
    return new JsonObject()
        .put("median", median(ratios))
        .put("min", Collections.min(ratios))
        .put("max", Collections.max(ratios))
        .put("pairs", new JsonArray(ratios));
  }

  /**
   * One scrape of {@code /metrics}, as a Prometheus server's first, so that the template measures
   * with its JVM's meters bound (bare Vert.x answers 404).
   */
  private static void scrapeOnce(ServiceProcess p) throws Exception {
    try (RawHttp c = new RawHttp("127.0.0.1", p.port(), 10_000)) {
      c.get("/metrics");
    }
  }

  /** CPU time the process has used so far, user and system, in microseconds. */
  public static double cpuUs(long pid) {
    return ProcessHandle.of(pid)
            .flatMap(h -> h.info().totalCpuDuration())
            .orElseThrow(() -> new IllegalStateException("no CPU time for " + pid))
            .toNanos()
        / 1000.0;
  }

  private ServiceProcess start(
      List<String> launcher, Variant v, List<String> flags, Map<String, String> env, int port)
      throws IOException {
    List<String> args = new ArrayList<>(flags);
    args.addAll(v.javaArgs());
    Map<String, String> all = new java.util.HashMap<>(env);
    all.put("HTTP_PORT", Integer.toString(port));
    all.put("HTTP_INSTANCES", Integer.toString(instances));
    Path dir = Files.createDirectories(scratch.resolve(v.name()));
    return ServiceProcess.java(launcher, args, dir, all).quiet();
  }

  private ServiceProcess start(Variant v, List<String> flags, Map<String, String> env)
      throws IOException {
    return start(List.of(), v, flags, env, 0);
  }

  private JsonObject throughput(Variant v, List<String> flags, Map<String, String> env)
      throws Exception {
    try (ServiceProcess p = start(serviceCore, v, flags, env, 0)) {
      String url = "http://127.0.0.1:" + p.port() + "/hello";
      scrapeOnce(p);
      warmUp(() -> wrk(url, Math.max(2, seconds / 3)));
      double cpuBefore = cpuUs(p.pid());
      String out = wrk(url, seconds);
      double cpu = cpuUs(p.pid()) - cpuBefore;
      JsonObject run =
          new JsonObject()
              .put("variant", v.name())
              .put("flags", String.join(" ", flags))
              .put("env", new JsonObject(new java.util.HashMap<>(env)))
              .put("rps", number(out, "Requests/sec:\\s+([\\d.]+)"))
              .put("p50Ms", latencyMs(out, "50%"))
              .put("p99Ms", latencyMs(out, "99%"))
              .put("cpuUsPerRequest", cpu / number(out, "(\\d+) requests in"))
              .put("rssMiB", rssMiB(p.pid()))
              .put("heapMiB", heapMiB(p.pid()));
      System.out.println("throughput " + run.encode());
      p.signal("TERM");
      p.awaitExit(Duration.ofSeconds(60));
      return run;
    }
  }

  /**
   * Four runs of the load before the measured one. One long run is not enough: the connections it
   * closes and the measured run opens take code paths compiled only then, and the JIT compiler went
   * on taking a quarter of the server's core through the measured run (seen in {@code
   * /proc/<pid>/task}), more for the template, which has more code, than for bare Vert.x.
   */
  private static void warmUp(java.util.concurrent.Callable<?> load) throws Exception {
    for (int i = 0; i < 4; i++) {
      load.call();
    }
  }

  /** h2load on {@code /hello}, HTTP/2 with prior knowledge, pinned as wrk is. */
  private JsonObject h2Throughput(Variant v, List<String> flags) throws Exception {
    try (ServiceProcess p = start(serviceCore, v, flags, Map.of(), 0)) {
      String url = "http://127.0.0.1:" + p.port() + "/hello";
      scrapeOnce(p);
      warmUp(() -> h2load(url, Math.max(2, seconds / 3)));
      double cpuBefore = cpuUs(p.pid());
      H2load.Counts counts = h2load(url, seconds);
      double cpu = cpuUs(p.pid()) - cpuBefore;
      JsonObject run =
          new JsonObject()
              .put("variant", v.name())
              .put("rps", counts.reqPerSec())
              .put("cpuUsPerRequest", cpu / counts.succeeded())
              .put("rssMiB", rssMiB(p.pid()))
              .put("heapMiB", heapMiB(p.pid()))
              .put("h2load", new JsonObject(counts.json()));
      System.out.println("http2 throughput " + run.encode());
      p.signal("TERM");
      p.awaitExit(Duration.ofSeconds(60));
      return run;
    }
  }

  /** One h2load run on {@code url} for {@code runSeconds}; none of its requests may fail. */
  private H2load.Counts h2load(String url, int runSeconds) throws Exception {
    try (H2load load =
        H2load.unlogged(scratch, wrkCore, url, H2_CONNECTIONS, H2_STREAMS, runSeconds)) {
      H2load.Counts counts = load.counts(runSeconds * 3L + 30);
      if (counts.failed() > 0 || counts.errored() > 0) {
        throw new IllegalStateException("h2load failed requests: " + counts.json());
      }
      return counts;
    }
  }

  /**
   * h2load's closed-loop HTTP/2 load on {@code /hello} for 6 s, SIGTERM once {@code 50 ×
   * connections} requests have finished; h2load's own counts.
   */
  private JsonObject h2Loss(Variant v, int delayMs) throws Exception {
    try (ServiceProcess p =
            start(v, List.of(), Map.of("SHUTDOWN_DELAY_MS", Integer.toString(delayMs)));
        H2load load =
            H2load.start(
                scratch,
                List.of(),
                "http://127.0.0.1:" + p.port() + "/hello",
                H2_CONNECTIONS,
                H2_STREAMS,
                6)) {
      if (!load.awaitFinished(50L * H2_CONNECTIONS, 30_000)) {
        throw new IllegalStateException("h2load did not get going");
      }
      p.sigterm();
      int status = p.awaitExit(Duration.ofSeconds(60));
      JsonObject run =
          new JsonObject(load.counts(60).json())
              .put("variant", v.name())
              .put("delayMs", v == template ? delayMs : null)
              .put("exit", status);
      System.out.println("http2 loss " + run.encode());
      return run;
    }
  }

  /**
   * wrk (HTTP/1.1) and h2load (HTTP/2) on {@code /hello} at once while {@value #SLOWLORIS}
   * connections of each protocol send a request head one byte a second: HTTP/1.1 a head that never
   * ends, HTTP/2 the preface, SETTINGS and a HEADERS frame one byte at a time. Records when the
   * server closed each of them (the template: at {@value #SLOWLORIS_HEAD_TIMEOUT_MS} ms, its
   * HTTP_HEAD_TIMEOUT_MS here, so that it falls in the run).
   */
  private JsonObject slowloris(Variant v) throws Exception {
    Map<String, String> env =
        Map.of("HTTP_HEAD_TIMEOUT_MS", Integer.toString(SLOWLORIS_HEAD_TIMEOUT_MS));
    byte[] h2Headers = {
      0,
      0,
      13,
      1,
      5,
      0,
      0,
      0,
      1, // HEADERS, END_STREAM | END_HEADERS, stream 1, 13 bytes
      (byte) 0x82,
      (byte) 0x86,
      0x44,
      0x06,
      '/',
      'h',
      'e',
      'l',
      'l',
      'o',
      0x41,
      0x01,
      'x'
    };
    try (ServiceProcess p = start(serviceCore, v, List.of(), env, 0);
        Selector selector = Selector.open()) {
      int port = p.port();
      scrapeOnce(p);
      long start = System.nanoTime();
      for (int i = 0; i < 2 * SLOWLORIS; i++) {
        boolean http2 = i % 2 == 1;
        SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
        ch.write(
            ByteBuffer.wrap(
                http2
                    ? concat(
                        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1),
                        new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0})
                    : "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: "
                        .getBytes(StandardCharsets.ISO_8859_1)));
        ch.configureBlocking(false);
        ch.register(selector, SelectionKey.OP_READ, new Slow(http2, http2 ? h2Headers : null));
      }
      List<Double> closedHttp1 = Collections.synchronizedList(new ArrayList<>());
      List<Double> closedHttp2 = Collections.synchronizedList(new ArrayList<>());
      AtomicBoolean stop = new AtomicBoolean();
      Thread watcher =
          new Thread(
              () -> watchSlowloris(selector, start, closedHttp1, closedHttp2, stop), "slowloris");
      watcher.start();
      String url = "http://127.0.0.1:" + port + "/hello";
      // Its own thread: the two load generators run side by side whatever the core count.
      java.util.concurrent.FutureTask<H2load.Counts> h2 =
          new java.util.concurrent.FutureTask<>(() -> h2load(url, seconds));
      new Thread(h2, "h2load").start();
      String out;
      H2load.Counts h2Counts;
      try {
        out = wrk(url, seconds, true);
        h2Counts = h2.get(seconds * 3L + 60, TimeUnit.SECONDS);
      } finally {
        // Before the selector closes under it.
        stop.set(true);
        watcher.join();
      }
      JsonObject run =
          new JsonObject()
              .put("variant", v.name())
              .put("rps", number(out, "Requests/sec:\\s+([\\d.]+)"))
              .put("p50Ms", latencyMs(out, "50%"))
              .put("p99Ms", latencyMs(out, "99%"))
              .put("timeouts", wrkTimeouts(out))
              .put("http2Rps", h2Counts.reqPerSec())
              .put("closed", closedHttp1.size())
              .put("closedHttp2", closedHttp2.size())
              .put("of", SLOWLORIS)
              .put("lastClosedMs", closedHttp1.stream().mapToDouble(d -> d).max().orElse(-1))
              .put("lastClosedHttp2Ms", closedHttp2.stream().mapToDouble(d -> d).max().orElse(-1));
      System.out.println("slowloris " + run.encode());
      for (SelectionKey key : selector.keys()) {
        key.channel().close();
      }
      p.signal("TERM");
      p.awaitExit(Duration.ofSeconds(60));
      return run;
    }
  }

  /** A slow connection: its protocol, and the HTTP/2 bytes still to dribble (HTTP/1.1: endless). */
  private static final class Slow {
    final boolean http2;
    final byte[] rest;
    int sent;

    Slow(boolean http2, byte[] rest) {
      this.http2 = http2;
      this.rest = rest;
    }

    /** The next byte to send, or -1 when an HTTP/2 frame is whole (it then stays silent). */
    int next() {
      return !http2 ? 'a' : sent < rest.length ? rest[sent++] & 0xff : -1;
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  /** Dribbles a byte a second into each open connection and notes when the server closes one. */
  private static void watchSlowloris(
      Selector selector,
      long start,
      List<Double> closedHttp1,
      List<Double> closedHttp2,
      AtomicBoolean stop) {
    ByteBuffer in = ByteBuffer.allocate(4096);
    long nextByte = System.nanoTime();
    try {
      while (!stop.get()) {
        selector.select(100);
        for (SelectionKey key : selector.selectedKeys()) {
          in.clear();
          int n;
          try {
            n = ((SocketChannel) key.channel()).read(in);
          } catch (IOException reset) {
            n = -1;
          }
          if (n < 0) {
            double ms = (System.nanoTime() - start) / 1e6;
            (((Slow) key.attachment()).http2 ? closedHttp2 : closedHttp1).add(ms);
            key.cancel();
          }
        }
        selector.selectedKeys().clear();
        if (System.nanoTime() >= nextByte) {
          nextByte += TimeUnit.SECONDS.toNanos(1);
          for (SelectionKey key : selector.keys()) {
            int next = key.isValid() ? ((Slow) key.attachment()).next() : -1;
            if (next < 0) {
              continue;
            }
            try {
              ((SocketChannel) key.channel()).write(ByteBuffer.wrap(new byte[] {(byte) next}));
            } catch (IOException closing) {
              // read() reports it
            }
          }
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private double startupMs(Variant v) throws Exception {
    int port = freePort();
    long start = System.nanoTime();
    try (ServiceProcess p = start(List.of(), v, List.of(), Map.of(), port)) {
      while (true) {
        try (RawHttp c = new RawHttp("127.0.0.1", port, 5_000)) {
          if (c.get("/hello").status() == 200) {
            break;
          }
        } catch (IOException notYet) {
          Thread.sleep(1); // a client polling for the server to come up
        }
      }
      double ms = (System.nanoTime() - start) / 1e6;
      p.signal("TERM");
      p.awaitExit(Duration.ofSeconds(30));
      System.out.println("startup " + v.name() + " " + ms + " ms");
      return ms;
    }
  }

  private double idleShutdownMs(Variant v) throws Exception {
    try (ServiceProcess p = start(v, List.of(), Map.of())) {
      p.port();
      long sent = p.sigterm();
      p.awaitExit(Duration.ofSeconds(60));
      double ms = (p.exitNanos() - sent) / 1e6;
      System.out.println("idle shutdown " + v.name() + " " + ms + " ms");
      return ms;
    }
  }

  /** SIGTERM with {@value #IN_FLIGHT} {@code /job?ms=1500} in flight. */
  private JsonObject inFlightShutdown() throws Exception {
    ExecutorService readers = Executors.newFixedThreadPool(IN_FLIGHT);
    try (ServiceProcess p = start(template, List.of(), Map.of())) {
      int port = p.port();
      List<RawHttp> conns = new ArrayList<>();
      for (int i = 0; i < IN_FLIGHT; i++) {
        RawHttp c = new RawHttp("127.0.0.1", port, 30_000);
        c.send("/job?ms=1500");
        conns.add(c);
      }
      List<CompletableFuture<Long>> answered = new ArrayList<>();
      for (RawHttp c : conns) {
        answered.add(
            CompletableFuture.supplyAsync(
                () -> {
                  try (c) {
                    return c.read().status() == 200 ? System.nanoTime() : -1L;
                  } catch (IOException e) {
                    return -1L;
                  }
                },
                readers));
      }
      p.awaitLine(l -> l.contains("jobs in progress: " + IN_FLIGHT)).get(30, TimeUnit.SECONDS);
      p.sigterm();
      int status = p.awaitExit(Duration.ofSeconds(60));
      long last = 0;
      int ok = 0;
      for (CompletableFuture<Long> a : answered) {
        long t = a.get(10, TimeUnit.SECONDS);
        if (t > 0) {
          ok++;
          last = Math.max(last, t);
        }
      }
      JsonObject run =
          new JsonObject()
              .put("answered200", ok)
              .put("of", IN_FLIGHT)
              .put("exit", status)
              .put("lastResponseToExitMs", (p.exitNanos() - last) / 1e6);
      System.out.println("in-flight shutdown " + run.encode());
      return run;
    } finally {
      readers.shutdownNow();
    }
  }

  private JsonObject loss(Variant v, int clients, int delayMs) throws Exception {
    try (ServiceProcess p =
        start(v, List.of(), Map.of("SHUTDOWN_DELAY_MS", Integer.toString(delayMs)))) {
      LoadClient load = new LoadClient("127.0.0.1", p.port(), "/hello", clients);
      load.start();
      load.oks(50L * clients).get(60, TimeUnit.SECONDS);
      load.markSignal();
      p.sigterm();
      int status = p.awaitExit(Duration.ofSeconds(60));
      load.stop();
      JsonObject run =
          new JsonObject(load.json())
              .put("variant", v.name())
              .put("delayMs", v == template ? delayMs : null)
              .put("exit", status);
      System.out.println("loss " + run.encode());
      return run;
    }
  }

  /**
   * One run of {@code kind}'s {@value #CLIENT_WORKERS} workers straight at the service: SIGTERM
   * once the load is warm, then on until every worker has met the closed port.
   */
  private JsonObject clientLoss(ExternalClient.Kind kind, Variant v, int delayMs) throws Exception {
    try (ServiceProcess p =
            start(v, List.of(), Map.of("SHUTDOWN_DELAY_MS", Integer.toString(delayMs)));
        ExternalClient client = ExternalClient.start(kind, p.port(), CLIENT_WORKERS, scratch)) {
      client.oks(50L * CLIENT_WORKERS).get(60, TimeUnit.SECONDS);
      p.sigterm();
      int status = p.awaitExit(Duration.ofSeconds(60));
      client.moreRefused(CLIENT_WORKERS).get(30, TimeUnit.SECONDS);
      JsonObject run =
          new JsonObject()
              .put("client", kind.label)
              .put("variant", v.name())
              .put("delayMs", v == template ? delayMs : null)
              .put("ok", client.ok())
              .put("refused", client.refused())
              .put("failed", client.failed())
              .put("failures", new JsonObject(new java.util.HashMap<>(client.failures())))
              .put("exit", status);
      System.out.println("client loss " + run.encode());
      return run;
    }
  }

  /** wrk with one thread on its own core when the service is pinned, else two threads unpinned. */
  private String wrk(String url, int seconds) throws Exception {
    return wrk(url, seconds, false);
  }

  /**
   * @param timeoutsExpected a request over wrk's 2 s timeout is a figure of the run (the slow-head
   *     row, where bare Vert.x has its connections taken), not a broken run
   */
  private String wrk(String url, int seconds, boolean timeoutsExpected) throws Exception {
    List<String> command = new ArrayList<>(wrkCore);
    command.addAll(
        List.of(
            "wrk",
            pin ? "-t1" : "-t2",
            "-c" + CONNECTIONS,
            "-d" + seconds + "s",
            "--latency",
            url));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    boolean clean =
        timeoutsExpected
            ? !out.contains("Socket errors") || out.contains("connect 0, read 0, write 0,")
            : !out.contains("Socket errors");
    if (p.waitFor() != 0 || !clean) {
      throw new IllegalStateException("wrk failed:\n" + out);
    }
    return out;
  }

  /** Requests wrk gave up on after its 2 s timeout. */
  private static int wrkTimeouts(String out) {
    Matcher m = Pattern.compile("timeout (\\d+)").matcher(out);
    return m.find() ? Integer.parseInt(m.group(1)) : 0;
  }

  /** The first group of {@code regex}'s first match in {@code text}, as a number. */
  public static double number(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    if (!m.find()) {
      throw new IllegalStateException("no " + regex + " in:\n" + text);
    }
    return Double.parseDouble(m.group(1));
  }

  /** A wrk latency percentile line, e.g. {@code 99% 4.21ms}, in milliseconds. */
  public static double latencyMs(String text, String percentile) {
    Matcher m = Pattern.compile(percentile + "\\s+([\\d.]+)(us|ms|s)").matcher(text);
    if (!m.find()) {
      throw new IllegalStateException("no " + percentile + " in:\n" + text);
    }
    double value = Double.parseDouble(m.group(1));
    return switch (m.group(2)) {
      case "us" -> value / 1000;
      case "s" -> value * 1000;
      default -> value;
    };
  }

  private static double rssMiB(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
      }
    }
    throw new IllegalStateException("no VmRSS for " + pid);
  }

  /**
   * The heap the JVM has committed, read after the RSS (jcmd attaches a thread). With the JVM's
   * defaults G1 grows the heap when its pauses take more than a threshold share of the time, so
   * this says which size a start drew, and how much of the RSS is that draw.
   */
  private static double heapMiB(long pid) throws Exception {
    Path jcmd =
        Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("jcmd");
    Process p =
        new ProcessBuilder(jcmd.toString(), Long.toString(pid), "GC.heap_info")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("jcmd GC.heap_info failed:\n" + out);
    }
    // G1 states one heap; the serial collector (one core) a young and an old generation. JDK 17
    // says "total 393216K", JDK 25 "total reserved 6172672K, committed 393216K".
    Matcher total = Pattern.compile("total (?:reserved \\d+K, committed )?(\\d+)K").matcher(out);
    long kib = 0;
    while (total.find()) {
      kib += Long.parseLong(total.group(1));
    }
    if (kib == 0) {
      throw new IllegalStateException("no heap size in:\n" + out);
    }
    return kib / 1024.0;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static JsonObject summary(JsonArray runs) {
    return new JsonObject()
        .put("runs", runs)
        .put("rps", median(runs, "rps"))
        .put("p50Ms", median(runs, "p50Ms"))
        .put("p99Ms", median(runs, "p99Ms"))
        .put("rssMiB", median(runs, "rssMiB"));
  }

  private static JsonObject h2Summary(JsonArray runs) {
    return new JsonObject().put("runs", runs).put("rps", median(runs, "rps"));
  }

  private static double median(JsonArray runs, String key) {
    List<Double> values = new ArrayList<>();
    for (int i = 0; i < runs.size(); i++) {
      values.add(runs.getJsonObject(i).getDouble(key));
    }
    return median(values);
  }

  /** The median of {@code values}. */
  public static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private static String machine() throws IOException {
    String cpu =
        Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
            .filter(l -> l.startsWith("model name"))
            .findFirst()
            .map(l -> l.substring(l.indexOf(':') + 1).trim())
            .orElse("unknown CPU");
    return Runtime.getRuntime().availableProcessors()
        + " cores ("
        + cpu
        + "), Java "
        + System.getProperty("java.version");
  }

  private static String table(JsonObject r) {
    JsonObject t = r.getJsonObject("throughput");
    JsonObject tt = t.getJsonObject("template");
    JsonObject bt = t.getJsonObject("baseline");
    JsonObject tc = t.getJsonObject("templateContainerFlags");
    JsonObject st = r.getJsonObject("startupMs");
    JsonObject sd = r.getJsonObject("shutdown");
    JsonObject idle = sd.getJsonObject("idleSigtermToExitMs");
    StringBuilder sb = header(r);
    sb.append("\n\n| figure | template | baseline | template/baseline |\n|---|---|---|---|\n");
    row(
        sb,
        "GET /hello req/s (wrk, "
            + CONNECTIONS
            + " conns, median of "
            + r.getInteger("rounds")
            + ")",
        tt,
        bt,
        o -> o.getDouble("rps"),
        "%.0f");
    row(
        sb,
        "GET /hello req/s over HTTP/2 (h2load, "
            + H2_CONNECTIONS
            + " conns × "
            + H2_STREAMS
            + " streams, median of "
            + r.getInteger("rounds")
            + ")",
        t.getJsonObject("http2Template"),
        t.getJsonObject("http2Baseline"),
        o -> o.getDouble("rps"),
        "%.0f");
    JsonObject off = t.getJsonObject("templateMetricsOff");
    sb.append(
        String.format(
            "| GET /hello req/s, template with METRICS_ENABLED=false | %.0f | | %.3f |%n",
            off.getDouble("rps"), off.getDouble("rps") / bt.getDouble("rps")));
    sb.append(
        String.format(
            "| cost of the default metrics (1 − on/off) | %.1f%% | | |%n",
            100 * t.getDouble("metricsCost")));
    JsonObject perRequest = t.getJsonObject("templateHttpRequestMetrics");
    sb.append(
        String.format(
            "| GET /hello req/s, template with METRICS_HTTP_REQUESTS=true | %.0f | | %.3f |%n",
            perRequest.getDouble("rps"), perRequest.getDouble("rps") / bt.getDouble("rps")));
    sb.append(
        String.format(
            "| cost of the per-request HTTP metrics (1 − on/off) | %.1f%% | | |%n",
            100 * t.getDouble("httpRequestMetricsCost")));
    row(sb, "p50 latency (ms)", tt, bt, o -> o.getDouble("p50Ms"), "%.2f");
    row(sb, "p99 latency (ms)", tt, bt, o -> o.getDouble("p99Ms"), "%.2f");
    row(sb, "RSS after the run (MiB)", tt, bt, o -> o.getDouble("rssMiB"), "%.0f");
    sb.append(
        String.format(
            "| RSS after the run with %s (MiB) | %.0f | | |%n",
            String.join(" ", CONTAINER_FLAGS), tc.getDouble("rssMiB")));
    sb.append(
        String.format(
            "| startup: process start → first 200 (ms, median of 5) | %.0f | %.0f | %.2f |%n",
            st.getDouble("template"),
            st.getDouble("baseline"),
            st.getDouble("template") / st.getDouble("baseline")));
    sb.append(
        String.format(
            "| SIGTERM → exit, idle (ms, median of 5) | %.0f | %.0f | |%n",
            idle.getDouble("template"), idle.getDouble("baseline")));
    sb.append(
        String.format(
            "| SIGTERM with %d × /job?ms=1500 in flight: last response → exit (ms, median of 5) | %.1f | | |%n",
            IN_FLIGHT, sd.getDouble("lastResponseToExitMsMedian")));
    sb.append(String.format("| fat jar (MiB) | %.1f | | |%n", r.getLong("jarBytes") / 1048576.0));
    pairedRows(sb, r);
    slowlorisTable(sb, r.getJsonArray("slowloris"));
    sb.append(
        "\nShutdown loss, closed-loop keep-alive load on /hello, SIGTERM mid-load (failed = lost after sending: EOF, reset, partial, timeout, other status):\n\n");
    sb.append(
        "| variant | conns | delay ms | ok | refused | 503 | failed, conns opened before SIGTERM | failed, conns opened after | exit |\n|---|---|---|---|---|---|---|---|---|\n");
    JsonArray loss = r.getJsonArray("loss");
    for (int i = 0; i < loss.size(); i++) {
      JsonObject l = loss.getJsonObject(i);
      JsonObject b = l.getJsonObject("before");
      JsonObject a = l.getJsonObject("after");
      sb.append(
          String.format(
              "| %s | %d | %s | %d | %d | %d | **%d** | %d | %d |%n",
              l.getString("variant"),
              l.getInteger("clients"),
              l.getValue("delayMs") == null ? "–" : l.getValue("delayMs").toString(),
              b.getLong("OK") + a.getLong("OK"),
              b.getLong("REFUSED") + a.getLong("REFUSED"),
              b.getLong("UNAVAILABLE_503") + a.getLong("UNAVAILABLE_503"),
              l.getLong("failedBefore"),
              l.getLong("failedAfter"),
              l.getInteger("exit")));
    }
    sb.append(
        "\nThe same over HTTP/2: h2load, "
            + H2_CONNECTIONS
            + " connections × "
            + H2_STREAMS
            + " concurrent streams on /hello, SIGTERM mid-load; h2load's own counts (failed after"
            + " sending: a failed request that had started, i.e. was on a connection h2load had"
            + " already used):\n\n");
    sb.append(
        "| variant | delay ms | succeeded | failed | errored | timeout | 5xx | failed after sending | exit |\n|---|---|---|---|---|---|---|---|---|\n");
    JsonArray h2Loss = r.getJsonArray("http2Loss");
    for (int i = 0; i < h2Loss.size(); i++) {
      JsonObject l = h2Loss.getJsonObject(i);
      sb.append(
          String.format(
              "| %s | %s | %d | **%d** | **%d** | %d | %d | **%d** | %d |%n",
              l.getString("variant"),
              l.getValue("delayMs") == null ? "–" : l.getValue("delayMs").toString(),
              l.getLong("succeeded"),
              l.getLong("failed"),
              l.getLong("errored"),
              l.getLong("timeout"),
              l.getLong("5xx"),
              l.getLong("failed_after_sending"),
              l.getInteger("exit")));
    }
    sb.append(
        "\nReal client libraries, "
            + CLIENT_WORKERS
            + " keep-alive workers straight at one process, SIGTERM mid-load: requests failed,"
            + " counting every error the library surfaced except a refused connect, summed over "
            + CLIENT_RUNS
            + " runs (requests answered 200 in brackets):\n\n");
    sb.append(
        "| client | template, delay 0 | template, delay 1000 | bare Vert.x |\n|---|---|---|---|\n");
    JsonArray clients = r.getJsonArray("clients");
    Map<String, long[]> cells = new java.util.LinkedHashMap<>();
    for (int i = 0; i < clients.size(); i++) {
      JsonObject c = clients.getJsonObject(i);
      int column =
          c.getString("variant").equals("baseline") ? 2 : c.getInteger("delayMs") == 0 ? 0 : 1;
      long[] cell = cells.computeIfAbsent(c.getString("client"), k -> new long[6]);
      cell[column] += c.getLong("failed");
      cell[3 + column] += c.getLong("ok");
    }
    cells.forEach(
        (client, cell) ->
            sb.append(
                String.format(
                    "| %s | **%d** (%d) | **%d** (%d) | %d (%d) |%n",
                    client, cell[0], cell[3], cell[1], cell[4], cell[2], cell[5])));
    return sb.toString();
  }

  /** The machine, the date, the loop count and how the load generator shared the cores. */
  private static StringBuilder header(JsonObject r) {
    StringBuilder sb = new StringBuilder();
    sb.append("Machine: ").append(r.getString("machine")).append(", ").append(r.getString("date"));
    sb.append("\nHTTP_INSTANCES=")
        .append(r.getInteger("httpInstances"))
        .append(" in both servers.");
    sb.append(
        r.getBoolean("pinned")
            ? "\nThroughput runs: service pinned to core 1, the load generator (wrk -t1, h2load)"
                + " to core 0."
            : "\nThroughput runs: service and load generator (wrk -t2, h2load) share every core.");
    return sb;
  }

  /** The connection layer's figures alone (BENCH=connection-layer). */
  private static String connectionLayerTable(JsonObject r) {
    JsonObject t = r.getJsonObject("throughput");
    StringBuilder sb = header(r);
    sb.append("\n\n| figure | template | baseline | template/baseline |\n|---|---|---|---|\n");
    row(
        sb,
        "GET /hello req/s, HTTP/1.1 (wrk, median of " + r.getInteger("rounds") + ")",
        t.getJsonObject("template"),
        t.getJsonObject("baseline"),
        o -> o.getDouble("rps"),
        "%.0f");
    row(
        sb,
        "GET /hello req/s, HTTP/2 (h2load, median of " + r.getInteger("rounds") + ")",
        t.getJsonObject("http2Template"),
        t.getJsonObject("http2Baseline"),
        o -> o.getDouble("rps"),
        "%.0f");
    heapRows(sb, t);
    pairedRows(sb, r);
    slowlorisTable(sb, r.getJsonArray("slowloris"));
    return sb.toString();
  }

  /** The heap each server's starts committed, as "size×starts" (MiB), beside the RSS ratio. */
  private static void heapRows(StringBuilder sb, JsonObject t) {
    for (String[] f :
        new String[][] {
          {"template", "baseline", "HTTP/1.1"}, {"http2Template", "http2Baseline", "HTTP/2"}
        }) {
      sb.append(
          String.format(
              "| %s heap committed after the load (MiB × starts) | %s | %s | |%n",
              f[2],
              heapSizes(t.getJsonObject(f[0]).getJsonArray("runs")),
              heapSizes(t.getJsonObject(f[1]).getJsonArray("runs"))));
    }
  }

  private static String heapSizes(JsonArray runs) {
    java.util.TreeMap<Long, Integer> sizes = new java.util.TreeMap<>();
    for (int i = 0; i < runs.size(); i++) {
      sizes.merge(Math.round(runs.getJsonObject(i).getDouble("heapMiB")), 1, Integer::sum);
    }
    StringBuilder sb = new StringBuilder();
    sizes.forEach(
        (size, n) -> sb.append(sb.isEmpty() ? "" : ", ").append(size).append("×").append(n));
    return sb.toString();
  }

  /** Both servers with a heap of fixed size (BENCH=memory). */
  private static String fixedHeapTable(JsonObject r) {
    StringBuilder sb = header(r);
    sb.append("\nBoth servers with ").append(r.getString("flags")).append(".\n\n");
    sb.append("| figure | template | baseline | template/baseline |\n|---|---|---|---|\n");
    JsonObject t = r.getJsonObject("throughput");
    for (String[] f :
        new String[][] {
          {"template", "baseline", "HTTP/1.1"}, {"http2Template", "http2Baseline", "HTTP/2"}
        }) {
      row(
          sb,
          f[2] + " RSS after the load (MiB, median of " + r.getInteger("rounds") + ")",
          t.getJsonObject(f[0]),
          t.getJsonObject(f[1]),
          o -> median(o.getJsonArray("runs"), "rssMiB"),
          "%.0f");
    }
    pairedRows(sb, r);
    return sb.toString();
  }

  /** The per-round template/baseline ratios: median and spread. */
  private static void pairedRows(StringBuilder sb, JsonObject r) {
    JsonObject paired = r.getJsonObject("throughput").getJsonObject("paired");
    sb.append(
        "\nTemplate/baseline per round (rounds alternate; median of the "
            + r.getInteger("rounds")
            + " pairs, and the range):\n\n| figure | median | min | max |\n|---|---|---|---|\n");
    for (String[] f :
        new String[][] {
          {"http1Rps", "HTTP/1.1 req/s"},
          {"http1CpuPerRequest", "HTTP/1.1 server CPU per request"},
          {"http2Rps", "HTTP/2 req/s"},
          {"http2CpuPerRequest", "HTTP/2 server CPU per request"},
          {"http1Rss", "HTTP/1.1 RSS after the load"},
          {"http2Rss", "HTTP/2 RSS after the load"}
        }) {
      JsonObject ratio = paired.getJsonObject(f[0]);
      sb.append(
          String.format(
              "| %s | %.3f | %.3f | %.3f |%n",
              f[1], ratio.getDouble("median"), ratio.getDouble("min"), ratio.getDouble("max")));
    }
  }

  private static void slowlorisTable(StringBuilder sb, JsonArray slow) {
    sb.append(
        "\nGET /hello over HTTP/1.1 (wrk, "
            + CONNECTIONS
            + " conns) and HTTP/2 (h2load) at once, while "
            + SLOWLORIS
            + " HTTP/1.1 and "
            + SLOWLORIS
            + " HTTP/2 connections each send a request head one byte a second (template:"
            + " HTTP_HEAD_TIMEOUT_MS="
            + SLOWLORIS_HEAD_TIMEOUT_MS
            + "):\n\n"
            + "| variant | HTTP/1.1 req/s | p50 ms | p99 ms | wrk timeouts (> 2 s) | HTTP/2 req/s | HTTP/1.1 slow conns closed by the server, last after (ms) | HTTP/2 slow conns closed, last after (ms) |\n"
            + "|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < slow.size(); i++) {
      JsonObject s = slow.getJsonObject(i);
      sb.append(
          String.format(
              "| %s | %.0f | %.2f | %.2f | %d | %.0f | %d of %d, %s | %d of %d, %s |%n",
              s.getString("variant"),
              s.getDouble("rps"),
              s.getDouble("p50Ms"),
              s.getDouble("p99Ms"),
              s.getInteger("timeouts"),
              s.getDouble("http2Rps"),
              s.getInteger("closed"),
              s.getInteger("of"),
              s.getInteger("closed") == 0
                  ? "–"
                  : String.format("%.0f", s.getDouble("lastClosedMs")),
              s.getInteger("closedHttp2"),
              s.getInteger("of"),
              s.getInteger("closedHttp2") == 0
                  ? "–"
                  : String.format("%.0f", s.getDouble("lastClosedHttp2Ms"))));
    }
  }

  private static void row(
      StringBuilder sb,
      String name,
      JsonObject t,
      JsonObject b,
      ToDoubleFunction<JsonObject> f,
      String fmt) {
    double tv = f.applyAsDouble(t);
    double bv = f.applyAsDouble(b);
    sb.append(String.format("| %s | " + fmt + " | " + fmt + " | %.3f |%n", name, tv, bv, tv / bv));
  }
}
