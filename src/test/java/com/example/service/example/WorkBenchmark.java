package com.example.service.example;

import com.example.service.Benchmark;
import com.example.service.ServiceProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The example's database benchmark ({@code BENCH=example bench/run.sh}): {@code POST /work
 * {"ms":0}} under wrk, the example's jar against {@link BaselineWorkMain}, on H2 and on a
 * PostgreSQL server of its own, in alternating rounds; a new database for every run. Each server
 * runs with one event loop pinned to core 1, wrk to core 0; PostgreSQL is not pinned, and its CPU
 * is not counted (the same for both). Prints, per database, the medians and the per-round
 * template/baseline ratios.
 *
 * <p>Arguments: {@code rounds seconds}.
 */
public final class WorkBenchmark {

  private static final int CONNECTIONS = 16;

  private final int seconds;
  private final Postgres postgres;
  private final Path scratch = Files.createTempDirectory("bench-work");
  private final Path script = scratch.resolve("post.lua");
  private final boolean pin = Runtime.getRuntime().availableProcessors() >= 2;
  private int run;

  private record Run(
      double rps, double p50Ms, double p99Ms, double cpuUsPerRequest, double switchesPerRequest) {}

  private WorkBenchmark(int seconds, Postgres postgres) throws Exception {
    this.seconds = seconds;
    this.postgres = postgres;
    Files.writeString(
        script,
        "wrk.method = \"POST\"\n"
            + "wrk.body = '{\"ms\":0}'\n"
            + "wrk.headers[\"Content-Type\"] = \"application/json\"\n");
  }

  public static void main(String[] args) throws Exception {
    int rounds = Integer.parseInt(args[0]);
    int seconds = Integer.parseInt(args[1]);
    StringBuilder table = new StringBuilder();
    try (Postgres postgres = Postgres.start()) {
      WorkBenchmark bench = new WorkBenchmark(seconds, postgres);
      boolean pinned = bench.pin;
      Map<String, List<Run[]>> pairs = new HashMap<>();
      for (int round = 0; round < rounds; round++) {
        for (String kind : List.of("h2", "postgresql")) {
          Run template = bench.measure(kind, true);
          Run baseline = bench.measure(kind, false);
          pairs.computeIfAbsent(kind, k -> new ArrayList<>()).add(new Run[] {template, baseline});
        }
      }
      table
          .append("POST /work {\"ms\":0}, wrk -c")
          .append(CONNECTIONS)
          .append(", ")
          .append(rounds)
          .append(" rounds of ")
          .append(seconds)
          .append(" s, one event loop")
          .append(pinned ? " pinned to core 1 (wrk on core 0)" : "")
          .append(
              "\n\n| database | template req/s | baseline req/s | template p50 / p99 ms |"
                  + " baseline p50 / p99 ms | CPU per request, template / baseline"
                  + " (median, range) | req/s, template / baseline (median, range) |"
                  + " µs CPU per request, template / baseline | context switches per request,"
                  + " template / baseline |\n"
                  + "|---|---|---|---|---|---|---|---|---|\n");
      for (String kind : List.of("h2", "postgresql")) {
        List<Run[]> p = pairs.get(kind);
        table.append(
            String.format(
                "| %s | %.0f | %.0f | %.2f / %.2f | %.2f / %.2f | %s | %s | %.0f / %.0f | %.2f /"
                    + " %.2f |%n",
                kind,
                median(p, 0, Run::rps),
                median(p, 1, Run::rps),
                median(p, 0, Run::p50Ms),
                median(p, 0, Run::p99Ms),
                median(p, 1, Run::p50Ms),
                median(p, 1, Run::p99Ms),
                ratios(p, Run::cpuUsPerRequest),
                ratios(p, Run::rps),
                median(p, 0, Run::cpuUsPerRequest),
                median(p, 1, Run::cpuUsPerRequest),
                median(p, 0, Run::switchesPerRequest),
                median(p, 1, Run::switchesPerRequest)));
      }
    }
    System.out.println();
    System.out.println(table);
    System.exit(0);
  }

  private Run measure(String kind, boolean template) throws Exception {
    run++;
    TestDatabase db =
        TestDatabase.of(kind, Files.createDirectories(scratch.resolve("db" + run)), postgres);
    Map<String, String> env = new HashMap<>();
    env.put("DATABASE_URL", db.url());
    env.put("HTTP_INSTANCES", "1");
    env.put("CONFIG_PATH", "conf/config.json");
    // TEMPLATE_ENV="METRICS_ENABLED=false ...": settings for the template's runs, to see a cost.
    if (template && System.getenv("TEMPLATE_ENV") != null) {
      for (String setting : System.getenv("TEMPLATE_ENV").trim().split("\\s+")) {
        String[] kv = setting.split("=", 2);
        env.put(kv[0], kv[1]);
      }
    }
    List<String> args =
        List.of(
            "-cp",
            ServiceProcess.jar() + ":" + ServiceProcess.testClasses(),
            template ? "com.example.service.Main" : BaselineWorkMain.class.getName());
    List<String> core = pin ? List.of("taskset", "-c", "1") : List.of();
    try (ServiceProcess p =
        ServiceProcess.java(core, args, Files.createDirectories(scratch.resolve("run" + run)), env)
            .quiet()) {
      String url = "http://127.0.0.1:" + p.port() + "/work";
      for (int i = 0; i < 4; i++) {
        wrk(url, Math.max(2, seconds / 3));
      }
      double cpuBefore = Benchmark.cpuUs(p.pid());
      long switchesBefore = contextSwitches(p.pid());
      String out = wrk(url, seconds);
      double cpu = Benchmark.cpuUs(p.pid()) - cpuBefore;
      long switches = contextSwitches(p.pid()) - switchesBefore;
      double requests = Benchmark.number(out, "(\\d+) requests in");
      Run r =
          new Run(
              Benchmark.number(out, "Requests/sec:\\s+([\\d.]+)"),
              Benchmark.latencyMs(out, "50%"),
              Benchmark.latencyMs(out, "99%"),
              cpu / requests,
              switches / requests);
      System.out.println((template ? "template " : "baseline ") + kind + " " + r);
      p.signal("TERM");
      p.awaitExit(Duration.ofSeconds(60));
      return r;
    }
  }

  /**
   * Context switches of all the process's threads so far: each hand-off of a request from one
   * thread to another costs one (the thread woken), so they count the hand-offs.
   */
  private static long contextSwitches(long pid) throws Exception {
    long switches = 0;
    try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      for (Path task : tasks.toList()) {
        try {
          for (String line : Files.readAllLines(task.resolve("status"))) {
            if (line.contains("ctxt_switches:")) {
              switches += Long.parseLong(line.replaceAll("\\D", ""));
            }
          }
        } catch (java.nio.file.NoSuchFileException ended) {
          // a thread that ended meanwhile
        }
      }
    }
    return switches;
  }

  private String wrk(String url, int runSeconds) throws Exception {
    List<String> command = new ArrayList<>(pin ? List.of("taskset", "-c", "0") : List.of());
    command.addAll(
        List.of(
            "wrk",
            "-t1",
            "-c" + CONNECTIONS,
            "-d" + runSeconds + "s",
            "--latency",
            "-s",
            script.toString(),
            url));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0 || out.contains("Socket errors") || out.contains("Non-2xx")) {
      throw new IllegalStateException("wrk failed:\n" + out);
    }
    return out;
  }

  private static double median(
      List<Run[]> pairs, int side, java.util.function.ToDoubleFunction<Run> f) {
    List<Double> values = new ArrayList<>();
    for (Run[] pair : pairs) {
      values.add(f.applyAsDouble(pair[side]));
    }
    return Benchmark.median(values);
  }

  private static String ratios(List<Run[]> pairs, java.util.function.ToDoubleFunction<Run> f) {
    List<Double> ratios = new ArrayList<>();
    for (Run[] pair : pairs) {
      ratios.add(f.applyAsDouble(pair[0]) / f.applyAsDouble(pair[1]));
    }
    return String.format(
        "%.2f (%.2f–%.2f)",
        Benchmark.median(ratios), Collections.min(ratios), Collections.max(ratios));
  }
}
