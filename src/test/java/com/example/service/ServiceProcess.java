package com.example.service;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The fat jar running as a child process, for tests that send it real signals. It runs from the
 * project directory (so {@code conf/config.json} is found), on 127.0.0.1 and a free port.
 */
public final class ServiceProcess implements AutoCloseable {

  private static final Pattern LISTENING = Pattern.compile("listening on [^ ]+:(\\d+) ");

  /** The lifecycle tests' config file: the lifecycle's keys and RECORD_PATH. */
  static final String TEST_CONFIG = "src/test/resources/test-config.json";

  private final Process process;
  private final List<String> lines = new ArrayList<>();
  private final List<Waiter> waiters = new ArrayList<>();
  private final CompletableFuture<Integer> port = new CompletableFuture<>();
  private final CompletableFuture<Long> exitNanos;
  private volatile boolean echo = true;
  private final Thread reader;

  private record Waiter(Predicate<String> match, CompletableFuture<String> found) {}

  private ServiceProcess(Process process) {
    this.process = process;
    exitNanos = process.onExit().thenApply(p -> System.nanoTime());
    reader = new Thread(this::readOutput, "service-output");
    reader.setDaemon(true);
    reader.start();
    awaitLine(l -> LISTENING.matcher(l).find())
        .thenAccept(
            l -> {
              Matcher m = LISTENING.matcher(l);
              m.find();
              port.complete(Integer.parseInt(m.group(1)));
            });
    process.onExit().thenRun(() -> port.completeExceptionally(new IllegalStateException("exited")));
  }

  /**
   * Starts the lifecycle tests' {@link TestMain} from the fat jar and the test classes (with the
   * {@link ClassArchive}), with the test config file and {@code env} on top of HTTP_HOST=127.0.0.1,
   * HTTP_PORT=0 and a record file in {@code dir}.
   */
  static ServiceProcess start(Path dir, Map<String, String> env) throws IOException {
    return start(dir, env, List.of());
  }

  /** As {@link #start(Path, Map)}, with {@code jvmFlags} (say, {@code -D} or {@code -Xlog}) too. */
  static ServiceProcess start(Path dir, Map<String, String> env, List<String> jvmFlags)
      throws IOException {
    List<String> args = new ArrayList<>(List.of("-ea"));
    args.addAll(jvmFlags);
    args.addAll(ClassArchive.javaArgs());
    args.add(TestMain.class.getName());
    return java(List.of(), args, dir, env);
  }

  /** The java arguments that run {@link TestMain}. */
  static List<String> testMain() {
    return List.of("-cp", classPath(testClasses()), TestMain.class.getName());
  }

  /** The fat jar, then {@code testClasses}: a directory, or a jar of it. */
  static String classPath(Path testClasses) {
    return Path.of(jar()).toAbsolutePath() + File.pathSeparator + testClasses.toAbsolutePath();
  }

  /** Where the build put the compiled test classes. */
  public static Path testClasses() {
    return Path.of(System.getProperty("test.classes", "target/test-classes"));
  }

  /** The fat jar the build made. */
  public static String jar() {
    return System.getProperty("service.jar", "target/service.jar");
  }

  /** Where {@link TestApplication}'s store records job ids for a process started in {@code dir}. */
  static Path records(Path dir) {
    return dir.resolve("records.txt");
  }

  /**
   * Starts {@code launcher... java args...}; the launcher (e.g. {@code taskset -c 1}) must exec
   * java, so that signals reach it.
   */
  public static ServiceProcess java(
      List<String> launcher, List<String> args, Path dir, Map<String, String> env)
      throws IOException {
    return java(launcher, args, dir, env, null);
  }

  /**
   * As {@link #java(List, List, Path, Map)}, but in {@code workDir} with no CONFIG_PATH, so the
   * service looks for conf/config.json there.
   */
  public static ServiceProcess javaIn(
      Path workDir, List<String> args, Path dir, Map<String, String> env) throws IOException {
    return java(List.of(), args, dir, env, workDir);
  }

  private static ServiceProcess java(
      List<String> launcher, List<String> args, Path dir, Map<String, String> env, Path workDir)
      throws IOException {
    List<String> command = new ArrayList<>();
    // env resets SIGINT/SIGTERM to their defaults: a JVM started by a build tool or a script may
    // otherwise inherit SIGINT as ignored and never see it.
    command.addAll(List.of("env", "--default-signal=INT,TERM"));
    command.addAll(launcher);
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("HTTP_HOST", "127.0.0.1");
    pb.environment().put("HTTP_PORT", "0");
    if (workDir == null) {
      pb.environment().put("CONFIG_PATH", TEST_CONFIG);
    } else {
      pb.directory(workDir.toFile());
      pb.environment().remove("CONFIG_PATH");
    }
    pb.environment().put("RECORD_PATH", records(dir).toString());
    pb.environment().putAll(env);
    return new ServiceProcess(pb.start());
  }

  private void readOutput() {
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        if (echo) {
          System.out.println("  [service] " + line);
        }
        synchronized (this) {
          lines.add(line);
          for (Waiter w : waiters) {
            if (w.match().test(line)) {
              w.found().complete(line);
            }
          }
        }
      }
    } catch (IOException ignored) {
      // the process is gone
    }
  }

  /** Completes with the first output line, past or future, that matches. */
  public synchronized CompletableFuture<String> awaitLine(Predicate<String> match) {
    CompletableFuture<String> found = new CompletableFuture<>();
    for (String line : lines) {
      if (match.test(line)) {
        found.complete(line);
        return found;
      }
    }
    waiters.add(new Waiter(match, found));
    return found;
  }

  /** The HTTP port, once the service logs that it listens. */
  public int port() throws Exception {
    return port.get(30, TimeUnit.SECONDS);
  }

  /** Stops copying the service's output to stdout (it is still kept for {@link #output()}). */
  public ServiceProcess quiet() {
    echo = false;
    return this;
  }

  public boolean exited() {
    return !process.isAlive();
  }

  public long pid() {
    return process.pid();
  }

  /** Sends a signal by name, e.g. {@code TERM} or {@code INT}. */
  public void signal(String name) throws Exception {
    int rc = new ProcessBuilder("kill", "-s", name, Long.toString(process.pid())).start().waitFor();
    if (rc != 0) {
      throw new IllegalStateException("kill -s " + name + " failed: " + rc);
    }
  }

  /**
   * Sends SIGTERM straight from this JVM, with no helper process in between, and returns {@link
   * System#nanoTime()} just before it. Through the process handle: {@link Process#destroy()} would
   * also close the output stream, and the lines logged during the shutdown would be lost to us.
   */
  public long sigterm() {
    long sent = System.nanoTime();
    process.toHandle().destroy();
    return sent;
  }

  /** Waits for the process to exit and its last output line to be read; returns its status. */
  public int awaitExit(Duration timeout) throws Exception {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("service did not exit within " + timeout);
    }
    reader.join(timeout.toMillis());
    return process.exitValue();
  }

  /** {@link System#nanoTime()} when the exit was observed. */
  long exitNanos() throws Exception {
    return exitNanos.get(30, TimeUnit.SECONDS);
  }

  public synchronized String output() {
    return String.join("\n", lines);
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
