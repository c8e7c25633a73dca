package com.example.service;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A closed-loop keep-alive load from a client made by someone else, run as a separate program
 * (scripts in {@code bench/clients/}, or curl itself): each worker sends its next {@code GET
 * /hello} as soon as the last one returned, with the library's defaults. Every attempt is one
 * output line, counted here as ok, refused (a refused connect: nothing was sent) or failed (any
 * other error the library surfaced).
 */
final class ExternalClient implements AutoCloseable {

  /** The clients, in the order of the benchmark's table. */
  enum Kind {
    CURL("curl"),
    PYTHON_REQUESTS("Python requests"),
    NODE_AGENT("Node http.Agent"),
    GO_NETHTTP("Go net/http");

    final String label;

    Kind(String label) {
      this.label = label;
    }
  }

  private static final Path CLIENTS = Path.of("bench", "clients");
  private static Path goBinary;

  private final List<Process> processes = new ArrayList<>();
  private final AtomicLong ok = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final Map<String, AtomicLong> failures = new ConcurrentHashMap<>();
  private final List<Threshold> thresholds = new CopyOnWriteArrayList<>();

  private record Threshold(boolean oks, long n, CompletableFuture<Void> reached) {}

  /** The clients this machine can run; Go only if it is installed. */
  static List<Kind> available() throws Exception {
    List<Kind> kinds = new ArrayList<>();
    if (succeeds("curl", "--version")) {
      kinds.add(Kind.CURL);
    }
    if (succeeds("/usr/bin/python3", "-c", "import requests")) {
      kinds.add(Kind.PYTHON_REQUESTS);
    }
    if (succeeds("node", "--version")) {
      kinds.add(Kind.NODE_AGENT);
    }
    if (succeeds("go", "version")) {
      kinds.add(Kind.GO_NETHTTP);
    }
    return kinds;
  }

  private static boolean succeeds(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Starts {@code workers} workers of {@code kind} against 127.0.0.1:{@code port}. */
  static ExternalClient start(Kind kind, int port, int workers, Path scratch) throws Exception {
    ExternalClient client = new ExternalClient();
    String p = Integer.toString(port);
    String w = Integer.toString(workers);
    switch (kind) {
      case CURL -> {
        // One curl per worker; one process with many URLs reuses its connection between them.
        Path urls = scratch.resolve("curl-urls.cfg");
        if (!Files.exists(urls)) {
          // An output line per URL: -o applies to the first URL only.
          Files.write(
              urls,
              java.util.Collections.nCopies(200_000, "url = \"URL\"\noutput = \"/dev/null\""));
        }
        String config = Files.readString(urls).replace("URL", "http://127.0.0.1:" + p + "/hello");
        Path perPort = scratch.resolve("curl-" + p + ".cfg");
        Files.writeString(perPort, config);
        for (int i = 0; i < workers; i++) {
          client.run(
              List.of("curl", "-s", "-K", perPort.toString(), "-w", "%{http_code} %{exitcode}\\n"),
              ExternalClient::curlLine);
        }
      }
      case PYTHON_REQUESTS ->
          client.run(
              List.of("/usr/bin/python3", CLIENTS.resolve("python_requests.py").toString(), p, w),
              line -> line);
      case NODE_AGENT ->
          client.run(
              List.of("node", CLIENTS.resolve("node_agent.js").toString(), p, w), line -> line);
      case GO_NETHTTP -> client.run(List.of(goBinary(scratch).toString(), p, w), line -> line);
    }
    return client;
  }

  /** {@code 200 0} is ok, exit code 7 ("failed to connect") refused, anything else failed. */
  private static String curlLine(String line) {
    String[] parts = line.split(" ");
    if (parts.length != 2) {
      return "fail curl printed: " + line;
    }
    if (parts[0].equals("200") && parts[1].equals("0")) {
      return "ok";
    }
    return parts[1].equals("7") ? "refused" : "fail curl exit " + parts[1] + " status " + parts[0];
  }

  private static synchronized Path goBinary(Path scratch) throws Exception {
    if (goBinary == null) {
      Path binary = scratch.resolve("go_nethttp");
      Process build =
          new ProcessBuilder(
                  "go",
                  "build",
                  "-o",
                  binary.toString(),
                  CLIENTS.resolve("go_nethttp.go").toString())
              .inheritIO()
              .start();
      if (build.waitFor() != 0) {
        throw new IllegalStateException("go build failed");
      }
      goBinary = binary;
    }
    return goBinary;
  }

  private void run(List<String> command, java.util.function.UnaryOperator<String> classify)
      throws IOException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    processes.add(process);
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                  count(classify.apply(line));
                }
              } catch (IOException ignored) {
                // the client was stopped
              }
            },
            "client-output");
    reader.setDaemon(true);
    reader.start();
  }

  private void count(String outcome) {
    if (outcome.equals("ok")) {
      reached(true, ok.incrementAndGet());
    } else if (outcome.equals("refused")) {
      reached(false, refused.incrementAndGet());
    } else {
      String why = outcome.startsWith("fail ") ? outcome.substring(5) : outcome;
      failures.computeIfAbsent(why, k -> new AtomicLong()).incrementAndGet();
    }
  }

  private void reached(boolean oks, long n) {
    for (Threshold t : thresholds) {
      if (t.oks() == oks && n >= t.n()) {
        t.reached().complete(null);
      }
    }
  }

  private CompletableFuture<Void> when(boolean oks, long n) {
    Threshold t = new Threshold(oks, n, new CompletableFuture<>());
    thresholds.add(t);
    reached(oks, oks ? ok.get() : refused.get());
    return t.reached();
  }

  /** Completes once {@code n} attempts in all were answered 200. */
  CompletableFuture<Void> oks(long n) {
    return when(true, n);
  }

  /** Completes once {@code n} more connects than now were refused. */
  CompletableFuture<Void> moreRefused(long n) {
    return when(false, refused.get() + n);
  }

  long ok() {
    return ok.get();
  }

  long refused() {
    return refused.get();
  }

  long failed() {
    return failures.values().stream().mapToLong(AtomicLong::get).sum();
  }

  Map<String, Long> failures() {
    Map<String, Long> copy = new java.util.TreeMap<>();
    failures.forEach((k, v) -> copy.put(k, v.get()));
    return copy;
  }

  @Override
  public void close() throws InterruptedException {
    for (Process p : processes) {
      p.destroyForcibly();
    }
    for (Process p : processes) {
      p.waitFor();
    }
  }
}
