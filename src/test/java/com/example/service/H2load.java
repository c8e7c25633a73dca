package com.example.service;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * h2load (Debian's nghttp2-client) as a child process: closed-loop HTTP/2 load with prior
 * knowledge, over {@code connections} connections with {@code streams} concurrent streams each, and
 * h2load's own counts. Its log file (one line per finished request) tells a test when the load is
 * running, and which failed requests had been sent; a throughput run has none, as writing it costs
 * the load generator's core a line per request.
 */
final class H2load implements AutoCloseable {

  private static final Pattern REQUESTS =
      Pattern.compile(
          "requests: (\\d+) total, (\\d+) started, (\\d+) done, (\\d+) succeeded, (\\d+) failed,"
              + " (\\d+) errored, (\\d+) timeout");
  private static final Pattern STATUS =
      Pattern.compile("status codes: (\\d+) 2xx, (\\d+) 3xx, (\\d+) 4xx, (\\d+) 5xx");
  private static final Pattern RATE = Pattern.compile("finished in [^,]+, ([\\d.]+) req/s");

  /**
   * h2load's summary (its request counts, status classes and rate), and from its log how many of
   * the failed requests had been sent: h2load logs a request that never started (its connection
   * failed before the stream opened) with start time 0. Without the log, every failed request
   * counts as sent.
   */
  record Counts(
      long total,
      long done,
      long succeeded,
      long failed,
      long errored,
      long timeout,
      long status2xx,
      long status5xx,
      double reqPerSec,
      long failedAfterSending) {

    Map<String, Object> json() {
      Map<String, Object> m = new TreeMap<>();
      m.put("total", total);
      m.put("succeeded", succeeded);
      m.put("failed", failed);
      m.put("errored", errored);
      m.put("timeout", timeout);
      m.put("2xx", status2xx);
      m.put("5xx", status5xx);
      m.put("req_per_s", reqPerSec);
      m.put("failed_after_sending", failedAfterSending);
      return m;
    }
  }

  private final Process process;
  private final Path log;
  private final Path output;

  private H2load(Process process, Path log, Path output) {
    this.process = process;
    this.log = log;
    this.output = output;
  }

  /** Whether h2load is on the PATH. */
  static boolean installed() throws IOException, InterruptedException {
    return new ProcessBuilder("sh", "-c", "command -v h2load").start().waitFor() == 0;
  }

  /**
   * Starts h2load against {@code url} for {@code seconds} (its {@code -D}), logging every request.
   *
   * @param launcher e.g. {@code taskset -c 0}; it must exec h2load
   */
  static H2load start(
      Path dir, List<String> launcher, String url, int connections, int streams, int seconds)
      throws IOException {
    return launch(
        dir,
        launcher,
        url,
        connections,
        streams,
        seconds,
        Files.createTempFile(dir, "h2load", ".log"));
  }

  /** As {@link #start}, without the log: for throughput, where only the counts are read. */
  static H2load unlogged(
      Path dir, List<String> launcher, String url, int connections, int streams, int seconds)
      throws IOException {
    return launch(dir, launcher, url, connections, streams, seconds, null);
  }

  private static H2load launch(
      Path dir,
      List<String> launcher,
      String url,
      int connections,
      int streams,
      int seconds,
      Path log)
      throws IOException {
    Path output = Files.createTempFile(dir, "h2load", ".out");
    List<String> command = new ArrayList<>(launcher);
    command.addAll(
        List.of(
            "h2load",
            "-c",
            Integer.toString(connections),
            "-m",
            Integer.toString(streams),
            "-D",
            Integer.toString(seconds)));
    if (log != null) {
      command.add("--log-file=" + log);
    }
    command.add(url);
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .start();
    return new H2load(process, log, output);
  }

  /**
   * Waits until {@code requests} have finished (h2load logs each as it ends), or h2load has exited;
   * for a run {@link #start}ed, which logs.
   *
   * @return whether that many finished
   */
  boolean awaitFinished(long requests, long timeoutMs) throws IOException, InterruptedException {
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (System.nanoTime() < until && process.isAlive()) {
      if (Files.size(log) > 0 && lines() >= requests) {
        return true;
      }
      // h2load appends as requests end; a file has no event to wait on.
      Thread.sleep(20);
    }
    return lines() >= requests;
  }

  private long lines() throws IOException {
    try (var stream = Files.lines(log)) {
      return stream.count();
    }
  }

  /** Waits for h2load to finish and reads its counts. */
  Counts counts(long timeoutSeconds) throws Exception {
    if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException("h2load did not finish in " + timeoutSeconds + " s");
    }
    String text = Files.readString(output);
    Matcher requests = REQUESTS.matcher(text);
    Matcher status = STATUS.matcher(text);
    Matcher rate = RATE.matcher(text);
    if (!requests.find() || !status.find() || !rate.find()) {
      throw new IllegalStateException("unexpected h2load output:\n" + text);
    }
    return new Counts(
        Long.parseLong(requests.group(1)),
        Long.parseLong(requests.group(3)),
        Long.parseLong(requests.group(4)),
        Long.parseLong(requests.group(5)),
        Long.parseLong(requests.group(6)),
        Long.parseLong(requests.group(7)),
        Long.parseLong(status.group(1)),
        Long.parseLong(status.group(4)),
        Double.parseDouble(rate.group(1)),
        log == null ? Long.parseLong(requests.group(5)) : failedAfterSending());
  }

  /** Log rows: start time (µs since the epoch, 0 if never started), status (-1: failed), µs. */
  private long failedAfterSending() throws IOException {
    try (var rows = Files.lines(log)) {
      return rows.map(row -> row.split("\t"))
          .filter(col -> col.length >= 2 && col[1].equals("-1") && !col[0].equals("0"))
          .count();
    }
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
