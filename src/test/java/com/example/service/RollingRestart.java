package com.example.service;

import java.io.IOException;
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
import java.util.concurrent.TimeUnit;

/**
 * The compose topology as local processes: HAProxy with {@code deploy/haproxy.cfg} (server
 * addresses rewritten to loopback ports) in front of three instances of the fat jar, closed-loop
 * keep-alive load through HAProxy, and each instance restarted in turn: SIGTERM, wait for its exit,
 * start a new one on the same port, wait until HAProxy has it UP again.
 *
 * <p>Run as a program ({@code deploy/rolling-restart-local.sh}) it prints the report and exits 1 if
 * any client request failed. Arguments: {@code clients [shutdownDelayMs [httpInstances]]}.
 */
final class RollingRestart implements AutoCloseable {

  /** The same pre-stop delay as compose.yaml. */
  static final int SHUTDOWN_DELAY_MS = 3000;

  private static final int INSTANCES = 3;

  private final Path dir;
  private final int[] ports = new int[INSTANCES];
  private final ServiceProcess[] instances = new ServiceProcess[INSTANCES];
  private final int delayMs;
  private final int httpInstances;
  private final int frontPort;
  private final int statsPort;
  private final HttpClient http = HttpClient.newHttpClient();
  private Process haproxy;

  /** What a rolling restart did. */
  record Report(LoadClient load, List<Integer> exitCodes, long restartMs) {
    long served() {
      return load.total(LoadClient.Outcome.OK);
    }

    /** Every attempt that did not get a 200: through a proxy, none is acceptable. */
    long failed() {
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
          + " instances took "
          + restartMs
          + " ms; "
          + served()
          + " requests served, "
          + failed()
          + " failed; instance exit codes "
          + exitCodes
          + "; "
          + load.json();
    }
  }

  RollingRestart(Path dir, int instances) throws IOException {
    this(dir, SHUTDOWN_DELAY_MS, instances);
  }

  /**
   * @param delayMs the instances' SHUTDOWN_DELAY_MS
   * @param instances the instances' HTTP_INSTANCES
   */
  RollingRestart(Path dir, int delayMs, int instances) throws IOException {
    this.dir = dir;
    this.delayMs = delayMs;
    this.httpInstances = instances;
    for (int i = 0; i < INSTANCES; i++) {
      ports[i] = freePort();
    }
    frontPort = freePort();
    statsPort = freePort();
  }

  /** Starts everything, runs the load and the restarts, and stops the load. */
  Report run(int clients) throws Exception {
    for (int i = 0; i < INSTANCES; i++) {
      instances[i] = startInstance(i);
    }
    startHaproxy();
    for (int i = 0; i < INSTANCES; i++) {
      awaitUp(i);
    }

    LoadClient load = new LoadClient("127.0.0.1", frontPort, "/hello", clients);
    load.start();
    load.oks(50L * clients).get(60, TimeUnit.SECONDS);

    List<Integer> exits = new ArrayList<>();
    long start = System.nanoTime();
    for (int i = 0; i < INSTANCES; i++) {
      instances[i].sigterm();
      exits.add(instances[i].awaitExit(Duration.ofSeconds(60)));
      instances[i].close();
      instances[i] = startInstance(i);
      awaitUp(i);
    }
    long restartMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

    // Some traffic on the new instances before the load stops.
    long served = load.total(LoadClient.Outcome.OK);
    load.oks(served + 50L * clients).get(60, TimeUnit.SECONDS);
    load.stop();
    return new Report(load, exits, restartMs);
  }

  private ServiceProcess startInstance(int i) throws IOException {
    Path instanceDir = Files.createDirectories(dir.resolve("app" + (i + 1)));
    return ServiceProcess.start(
            instanceDir,
            Map.of(
                "HTTP_PORT", Integer.toString(ports[i]),
                "HTTP_INSTANCES", Integer.toString(httpInstances),
                "SHUTDOWN_DELAY_MS", Integer.toString(delayMs)))
        .quiet();
  }

  /** deploy/haproxy.cfg with loopback addresses and without Docker's DNS. */
  private void startHaproxy() throws IOException {
    String cfg = Files.readString(Path.of("deploy", "haproxy.cfg"));
    cfg = cfg.replaceAll("(?s)\nresolvers docker\n.*?\n\n", "\n\n");
    cfg = cfg.replace(" resolvers docker", "");
    for (int i = 0; i < INSTANCES; i++) {
      cfg = cfg.replace("app" + (i + 1) + ":8080", "127.0.0.1:" + ports[i]);
    }
    cfg = cfg.replace("bind :8080", "bind 127.0.0.1:" + frontPort);
    cfg = cfg.replace("bind :8404", "bind 127.0.0.1:" + statsPort);
    if (cfg.contains("app1:") || cfg.contains("127.0.0.11")) {
      throw new IllegalStateException("deploy/haproxy.cfg no longer has the expected form");
    }
    Path file = dir.resolve("haproxy.cfg");
    Files.writeString(file, cfg);
    haproxy =
        new ProcessBuilder("haproxy", "-db", "-f", file.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("haproxy.log").toFile())
            .start();
  }

  /** Waits until HAProxy's stats say server {@code i} is UP. */
  private void awaitUp(int i) throws Exception {
    String name = "app,app" + (i + 1) + ",";
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
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
          if (line.startsWith(name) && line.split(",")[17].equals("UP")) {
            return;
          }
        }
      } catch (IOException notYet) {
        // HAProxy is still starting
      }
      Thread.sleep(50); // polls HAProxy's view, as an operator's script would
    }
    throw new IllegalStateException("app" + (i + 1) + " did not come UP in HAProxy");
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
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
    int clients = args.length > 0 ? Integer.parseInt(args[0]) : 32;
    int delayMs = args.length > 1 ? Integer.parseInt(args[1]) : SHUTDOWN_DELAY_MS;
    int instances = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    Path dir = Files.createTempDirectory("rolling");
    Report report;
    try (RollingRestart topology = new RollingRestart(dir, delayMs, instances)) {
      report = topology.run(clients);
    }
    System.out.println(report);
    boolean clean = report.failed() == 0 && report.exitCodes().stream().allMatch(c -> c == 0);
    System.exit(clean ? 0 : 1);
  }
}
