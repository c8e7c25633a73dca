package com.example.service;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The compose topology as local processes: HAProxy with {@code deploy/haproxy.cfg} (server
 * addresses rewritten to loopback ports) in front of three instances of the fat jar, closed-loop
 * keep-alive load through HAProxy, and each instance restarted in turn: SIGTERM, wait for its exit,
 * start a new one on the same port, wait until HAProxy has it UP again.
 *
 * <p>Run as a program ({@code deploy/rolling-restart-local.sh}) it prints the report and exits 1 if
 * any client request failed. Arguments: {@code clients[@paceMs] [shutdownDelayMs [shutdownQuietMs
 * [httpInstances]]]}.
 */
public final class RollingRestart implements AutoCloseable {

  /** The same pre-stop delay and quiet period as compose.yaml. */
  public static final int SHUTDOWN_DELAY_MS = 3000;

  public static final int SHUTDOWN_QUIET_MS = 1500;

  private static final int INSTANCES = 3;
  private static final Random RANDOM = new Random();

  /** Ports handed out in this JVM, so that no two instances or runs share one. */
  private static final Set<Integer> USED = ConcurrentHashMap.newKeySet();

  private static final Pattern DELAY_ENDED =
      Pattern.compile("pre-stop delay ended after (\\d+) ms");

  private final Path dir;
  private final int[] ports = new int[INSTANCES];
  private final int[] managementPorts = new int[INSTANCES];
  private final ServiceProcess[] instances = new ServiceProcess[INSTANCES];
  private final int delayMs;
  private final int quietMs;
  private final int httpInstances;
  private final int frontPort;
  private final int statsPort;
  private final HttpClient http = HttpClient.newHttpClient();
  private Process haproxy;
  private Launcher launcher = ServiceProcess::start;
  private String path = "/hello";
  private String body;

  /** Starts one instance in {@code dir} with {@code env} on top of the service's defaults. */
  @FunctionalInterface
  public interface Launcher {
    ServiceProcess start(Path dir, Map<String, String> env) throws IOException;
  }

  /** What a rolling restart did. */
  /**
   * @param delayEndedAfterOutMs per restart, how long after HAProxy took the instance out its
   *     pre-stop delay ended (its listener closed): negative if HAProxy could still route to it
   * @param timelineMs per restart, from its SIGTERM: when HAProxy took the instance out, its delay
   *     ended, it exited, and HAProxy had the new one UP
   */
  public record Report(
      String config,
      LoadClient load,
      List<Integer> exitCodes,
      long restartMs,
      long retried,
      List<Long> delayEndedAfterOutMs,
      List<String> timelineMs) {
    public long served() {
      return load.total(LoadClient.Outcome.OK);
    }

    /** Every attempt that did not get a 200: through a proxy, none is acceptable. */
    public long failed() {
      long failed = 0;
      for (LoadClient.Outcome o : LoadClient.Outcome.values()) {
        if (o != LoadClient.Outcome.OK) {
          failed += load.total(o);
        }
      }
      return failed;
    }

    @Override
    public String toString() {
      return "rolling restart of "
          + INSTANCES
          + " instances ("
          + config
          + ") took "
          + restartMs
          + " ms; "
          + served()
          + " requests served, "
          + failed()
          + " failed, "
          + retried
          + " retried by HAProxy on another instance; each delay ended "
          + delayEndedAfterOutMs
          + " ms after HAProxy took its instance out; per restart, ms from SIGTERM: "
          + timelineMs
          + "; instance exit codes "
          + exitCodes
          + "; "
          + load.json();
    }
  }

  RollingRestart(Path dir, int instances) throws IOException {
    this(dir, SHUTDOWN_DELAY_MS, SHUTDOWN_QUIET_MS, instances);
  }

  /**
   * @param delayMs the instances' SHUTDOWN_DELAY_MS
   * @param quietMs the instances' SHUTDOWN_QUIET_MS
   * @param instances the instances' HTTP_INSTANCES
   */
  public RollingRestart(Path dir, int delayMs, int quietMs, int instances) throws IOException {
    this.dir = dir;
    this.delayMs = delayMs;
    this.quietMs = quietMs;
    this.httpInstances = instances;
    for (int i = 0; i < INSTANCES; i++) {
      ports[i] = freePort();
      managementPorts[i] = freePort();
    }
    frontPort = freePort();
    statsPort = freePort();
  }

  /**
   * Instances start with {@code launcher} instead of as the lifecycle tests' application, and the
   * clients {@code POST} {@code json} to {@code path}. Call before {@link #run}.
   */
  public RollingRestart with(Launcher launcher, String path, String json) {
    this.launcher = launcher;
    this.path = path;
    this.body = json;
    return this;
  }

  /** Starts everything, runs the load and the restarts, and stops the load. */
  Report run(int clients) throws Exception {
    return run(clients, 0);
  }

  /** As {@link #run(int)}, each client sending a request every {@code paceMs} (0: closed loop). */
  public Report run(int clients, long paceMs) throws Exception {
    for (int i = 0; i < INSTANCES; i++) {
      instances[i] = startInstance(i);
    }
    startHaproxy();
    for (int i = 0; i < INSTANCES; i++) {
      awaitUp(i);
    }

    LoadClient load = new LoadClient("127.0.0.1", frontPort, path, clients).paced(paceMs);
    if (body != null) {
      load.posting(body);
    }
    load.start();
    long some = paceMs > 0 ? 3 : 50L * clients;
    load.oks(some).get(60, TimeUnit.SECONDS);

    List<Integer> exits = new ArrayList<>();
    long start = System.nanoTime();
    List<Long> margins = new ArrayList<>();
    List<String> timeline = new ArrayList<>();
    for (int i = 0; i < INSTANCES; i++) {
      CompletableFuture<String> delayEnded =
          instances[i].awaitLine(l -> DELAY_ENDED.matcher(l).find());
      long signalled = instances[i].sigterm();
      awaitStatus(i, "DOWN");
      long outMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - signalled);
      exits.add(instances[i].awaitExit(Duration.ofSeconds(60)));
      long exitMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - signalled);
      // No such line without a delay: the listener closed at once.
      Matcher ended = DELAY_ENDED.matcher(delayEnded.getNow(""));
      long endedMs = ended.find() ? Long.parseLong(ended.group(1)) : 0;
      margins.add(endedMs - outMs);
      instances[i].close();
      instances[i] = startInstance(i);
      awaitUp(i);
      timeline.add(
          String.format(
              "out %d, delay over %d, exited %d, new one UP %d",
              outMs,
              endedMs,
              exitMs,
              TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - signalled)));
    }
    long restartMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

    // Some traffic on the new instances before the load stops.
    long served = load.total(LoadClient.Outcome.OK);
    load.oks(served + some).get(60, TimeUnit.SECONDS);
    load.stop();
    return new Report(
        "SHUTDOWN_DELAY_MS=" + delayMs + " SHUTDOWN_QUIET_MS=" + quietMs,
        load,
        exits,
        restartMs,
        retries(),
        margins,
        timeline);
  }

  /**
   * Requests HAProxy had to retry on another instance because it could not connect: sent to an
   * instance whose listener had closed. The last of a request log line's connection counts.
   */
  private long retries() throws IOException {
    Matcher m =
        Pattern.compile(
                " \\d+/\\d+/\\d+/\\d+/\\+?(\\d+) \\d+/\\d+ \""
                    + (body == null ? "GET " : "POST ")
                    + Pattern.quote(path))
            .matcher(Files.readString(dir.resolve("haproxy.log")));
    long retried = 0;
    while (m.find()) {
      if (!m.group(1).equals("0")) {
        retried++;
      }
    }
    return retried;
  }

  private ServiceProcess startInstance(int i) throws IOException {
    Path instanceDir = Files.createDirectories(dir.resolve("app" + (i + 1)));
    return launcher
        .start(
            instanceDir,
            Map.of(
                "HTTP_PORT", Integer.toString(ports[i]),
                "HTTP_INSTANCES", Integer.toString(httpInstances),
                "SHUTDOWN_DELAY_MS", Integer.toString(delayMs),
                "SHUTDOWN_QUIET_MS", Integer.toString(quietMs),
                "MANAGEMENT_PORT", Integer.toString(managementPorts[i])))
        .quiet();
  }

  /**
   * deploy/haproxy.cfg with loopback addresses (service and management ports), without Docker's
   * DNS.
   */
  private void startHaproxy() throws IOException {
    String cfg = Files.readString(Path.of("deploy", "haproxy.cfg"));
    cfg = cfg.replaceAll("(?s)\nresolvers docker\n.*?\n\n", "\n\n");
    cfg = cfg.replace(" resolvers docker", "");
    for (int i = 0; i < INSTANCES; i++) {
      cfg =
          cfg.replace(
              "app" + (i + 1) + ":8080 port 9090",
              "127.0.0.1:" + ports[i] + " port " + managementPorts[i]);
    }
    cfg = cfg.replace("bind :8080", "bind 127.0.0.1:" + frontPort);
    cfg = cfg.replace("bind :8404", "bind 127.0.0.1:" + statsPort);
    if (cfg.contains("app1:") || cfg.contains("port 9090") || cfg.contains("127.0.0.11")) {
      throw new IllegalStateException("deploy/haproxy.cfg no longer has the expected form");
    }
    haproxy = haproxy(dir, "haproxy.cfg", cfg);
  }

  /** Writes {@code cfg} to {@code dir/file} and runs HAProxy on it, its log in haproxy.log. */
  static Process haproxy(Path dir, String file, CharSequence cfg) throws IOException {
    Path path = dir.resolve(file);
    Files.writeString(path, cfg);
    return new ProcessBuilder("haproxy", "-db", "-f", path.toString())
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("haproxy.log").toFile())
        .start();
  }

  /** Waits until HAProxy's stats say server {@code i} is UP. */
  private void awaitUp(int i) throws Exception {
    awaitStatus(i, "UP");
  }

  /** Waits until HAProxy's stats give server {@code i} the {@code status}. */
  private void awaitStatus(int i, String status) throws Exception {
    String name = "app,app" + (i + 1) + ",";
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (status.equals("UP") && instances[i].exited()) {
        throw new IllegalStateException(
            "app" + (i + 1) + " exited before it was UP:\n" + instances[i].output());
      }
      if (!haproxy.isAlive()) {
        throw new IllegalStateException(
            "haproxy exited:\n" + Files.readString(dir.resolve("haproxy.log")));
      }
      try {
        String csv =
            http.send(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + statsPort + "/stats;csv"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .body();
        for (String line : csv.split("\n")) {
          // CSV field 17 is the server's status.
          if (line.startsWith(name) && line.split(",")[17].equals(status)) {
            return;
          }
        }
      } catch (IOException notYet) {
        // HAProxy is still starting
      }
      Thread.sleep(50); // polls HAProxy's view, as an operator's script would
    }
    String why = "app" + (i + 1) + " did not become " + status + " in HAProxy";
    throw new IllegalStateException(
        status.equals("UP") ? why + "; its output:\n" + instances[i].output() : why);
  }

  /**
   * A free port below the kernel's ephemeral range. A restarted instance binds its port again a
   * minute after it was chosen; a port from the ephemeral range may by then be the local port of
   * one of HAProxy's or the clients' outgoing connections, and the new instance could not bind.
   */
  static int freePort() throws IOException {
    int ephemeralLow = 32768;
    Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    if (Files.exists(range)) {
      // readAllLines: Files.readString trusts the size /proc reports (0) and reads one byte.
      ephemeralLow = Integer.parseInt(Files.readAllLines(range).get(0).trim().split("\\s+")[0]);
    }
    int low = Math.max(1024, ephemeralLow - 12000);
    for (int attempt = 0; attempt < 1000; attempt++) {
      int port = low + RANDOM.nextInt(ephemeralLow - low);
      if (USED.add(port)) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
          return s.getLocalPort();
        } catch (IOException taken) {
          // try another
        }
      }
    }
    throw new IOException("no free port under " + ephemeralLow);
  }

  @Override
  public void close() {
    for (ServiceProcess p : instances) {
      if (p != null) {
        p.close();
      }
    }
    if (haproxy != null) {
      haproxy.destroyForcibly();
    }
  }

  public static void main(String[] args) throws Exception {
    // "1@2000": one client, a request every 2000 ms.
    String[] load = (args.length > 0 ? args[0] : "32").split("@");
    int clients = Integer.parseInt(load[0]);
    long paceMs = load.length > 1 ? Long.parseLong(load[1]) : 0;
    int delayMs = args.length > 1 ? Integer.parseInt(args[1]) : SHUTDOWN_DELAY_MS;
    int quietMs = args.length > 2 ? Integer.parseInt(args[2]) : SHUTDOWN_QUIET_MS;
    int instances = args.length > 3 ? Integer.parseInt(args[3]) : 2;
    Path dir = Files.createTempDirectory("rolling");
    Report report;
    try (RollingRestart topology = new RollingRestart(dir, delayMs, quietMs, instances)) {
      report = topology.run(clients, paceMs);
    }
    System.out.println(report);
    boolean clean = report.failed() == 0 && report.exitCodes().stream().allMatch(c -> c == 0);
    System.exit(clean ? 0 : 1);
  }
}
