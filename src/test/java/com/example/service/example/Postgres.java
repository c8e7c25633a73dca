package com.example.service.example;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server of the tests' own: Debian's server binaries ({@code apt-get install
 * postgresql}, see the README), a fresh cluster in a temporary directory, on 127.0.0.1 and a free
 * port, trusting local connections. Each test takes a database of its own ({@link
 * #createDatabase}). As root, the server runs as the {@code postgres} user, as PostgreSQL insists.
 */
public final class Postgres implements AutoCloseable {

  private static final AtomicInteger DATABASES = new AtomicInteger();

  private final Path bin;
  private final Path data;
  private final int port;
  private final boolean root;

  private Postgres(Path bin, Path data, int port, boolean root) {
    this.bin = bin;
    this.data = data;
    this.port = port;
    this.root = root;
  }

  /** Makes a cluster and starts its server. */
  public static Postgres start() throws Exception {
    Path bin = binaries();
    boolean root = "root".equals(System.getProperty("user.name"));
    Path data = Files.createTempDirectory("postgres-test");
    if (root) {
      run(List.of("chown", "postgres:postgres", data.toString()));
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Postgres pg = new Postgres(bin, data, port, root);
    pg.asServerUser(
        List.of(
            bin.resolve("initdb").toString(),
            "-D",
            data.resolve("cluster").toString(),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8"));
    pg.startServer();
    return pg;
  }

  private static Path binaries() throws IOException {
    Path debian = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(debian)) {
      try (Stream<Path> versions = Files.list(debian)) {
        // The newest installed version.
        Path newest =
            versions
                .filter(v -> Files.isExecutable(v.resolve("bin/pg_ctl")))
                .max(Comparator.comparing(v -> Integer.parseInt(v.getFileName().toString())))
                .orElse(null);
        if (newest != null) {
          return newest.resolve("bin");
        }
      }
    }
    throw new IllegalStateException(
        "no PostgreSQL server: the tests need Debian's postgresql package (README, \"Build\")");
  }

  private void startServer() throws Exception {
    asServerUser(
        List.of(
            bin.resolve("pg_ctl").toString(),
            "-D",
            data.resolve("cluster").toString(),
            "-l",
            data.resolve("server.log").toString(),
            "-o",
            "-p " + port + " -k " + data + " -c listen_addresses=127.0.0.1",
            "-w",
            "start"));
  }

  /** Stops the server (fast mode: clients are disconnected); its data stays. */
  public void stop() throws Exception {
    asServerUser(
        List.of(
            bin.resolve("pg_ctl").toString(),
            "-D",
            data.resolve("cluster").toString(),
            "-m",
            "fast",
            "-w",
            "stop"));
  }

  /** Starts the stopped server again, on the same port. */
  public void restart() throws Exception {
    startServer();
  }

  /** A new empty database's name. */
  public String createDatabase() throws SQLException {
    String name = "test" + DATABASES.incrementAndGet();
    try (Connection c = connect("postgres");
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    }
    return name;
  }

  /** The {@code DATABASE_URL} of {@code database}. */
  public String url(String database) {
    return "postgresql://postgres@127.0.0.1:" + port + "/" + database;
  }

  public Connection connect(String database) throws SQLException {
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + port + "/" + database, "postgres", "");
  }

  /** The first column of every row {@code sql} returns, in {@code database}. */
  public List<String> column(String database, String sql) throws SQLException {
    return column(connect(database), sql);
  }

  /** The first column of every row {@code sql} returns, closing {@code c}. */
  public static List<String> column(Connection c, String sql) throws SQLException {
    List<String> values = new ArrayList<>();
    try (c;
        Statement s = c.createStatement();
        ResultSet rows = s.executeQuery(sql)) {
      while (rows.next()) {
        values.add(rows.getString(1));
      }
    }
    return values;
  }

  /** The values of {@code column} that occur more than once. */
  public static Set<String> repeated(List<String> column) {
    Set<String> seen = new HashSet<>();
    Set<String> repeated = new HashSet<>();
    for (String v : column) {
      if (!seen.add(v)) {
        repeated.add(v);
      }
    }
    return repeated;
  }

  private void asServerUser(List<String> command) throws Exception {
    List<String> full = new ArrayList<>();
    if (root) {
      full.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    full.addAll(command);
    run(full);
  }

  private static void run(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed:\n" + out);
    }
  }

  /** Stops the server and deletes its cluster. */
  @Override
  public void close() throws Exception {
    try {
      stop();
    } finally {
      try (Stream<Path> files = Files.walk(data)) {
        files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }
}
