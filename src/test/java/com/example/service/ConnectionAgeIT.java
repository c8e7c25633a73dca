package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * HTTP_MAX_CONNECTION_AGE_MS: an old connection is told to go after its current request, its client
 * reconnects, and no request is lost; WebSockets, event streams and streams in progress are not
 * cut.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConnectionAgeIT {

  private static final int AGE_MS = 200;
  private static final int CLIENTS = 8;
  private static final Pattern RETIRED =
      Pattern.compile("(?m)^service_http_connections_retired_total(?:\\{[^}]*\\})? (\\S+)$");

  /** Requests each load runs for: at least a few ages at this machine's slowest. */
  private static final long REQUESTS = 3000;

  @TempDir Path dir;

  private ServiceProcess start(int ageMs, Map<String, String> more) throws Exception {
    Map<String, String> env = new HashMap<>(more);
    env.put("HTTP_INSTANCES", "2");
    env.put("HTTP_MAX_CONNECTION_AGE_MS", Integer.toString(ageMs));
    return ServiceProcess.start(dir, env);
  }

  @Test
  void rawSocketClientsReconnectAndLoseNothing() throws Exception {
    try (ServiceProcess service = start(AGE_MS, Map.of())) {
      LoadClient load = new LoadClient("127.0.0.1", service.port(), "/hello", CLIENTS);
      long started = System.nanoTime();
      load.start();
      load.oks(REQUESTS).get(30, TimeUnit.SECONDS);
      awaitAges(load::connections, started);
      load.stop();

      System.out.println("raw sockets: " + load.connections() + " connections, " + load);
      assertThat(load.failures(false) + load.failures(true)).as("failed requests").isZero();
      // Connections went and clients reconnected: at least twice as many connections as clients.
      assertThat(load.connections()).isGreaterThanOrEqualTo(2L * CLIENTS);
      // Every reconnect followed a retirement, and the metrics count them.
      assertThat(retired(service)).isGreaterThanOrEqualTo(load.connections() - CLIENTS);
      service.signal("TERM");
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
    }
  }

  @Test
  void withoutAnAgeAConnectionStays() throws Exception {
    try (ServiceProcess service = start(0, Map.of())) {
      LoadClient load = new LoadClient("127.0.0.1", service.port(), "/hello", CLIENTS);
      load.start();
      load.oks(REQUESTS).get(30, TimeUnit.SECONDS);
      load.stop();
      assertThat(load.connections()).isEqualTo(CLIENTS);
      assertThat(load.failures(false) + load.failures(true)).isZero();
    }
  }

  @ParameterizedTest
  @EnumSource(LibraryLoad.Library.class)
  void libraryClientsReconnectAndLoseNothing(LibraryLoad.Library library) throws Exception {
    try (ServiceProcess service = start(AGE_MS, Map.of())) {
      LibraryLoad load = new LibraryLoad(library, service.port(), "/peer", CLIENTS, REQUESTS);
      long started = System.nanoTime();
      load.warm().get(30, TimeUnit.SECONDS);
      // "/peer" answers with the connection's client port: one body per connection.
      awaitAges(() -> load.bodies().size(), started);
      load.close();

      System.out.println(library + " over " + load.bodies().size() + " connections: " + load);
      assertThat(load.failed()).as("failed requests: " + load).isZero();
      assertThat(load.bodies()).hasSizeGreaterThanOrEqualTo(2 * CLIENTS);
      // Retired, not closed for another reason (a pool may also open a spare connection).
      assertThat(retired(service)).isGreaterThanOrEqualTo(CLIENTS);
      service.signal("TERM");
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
    }
  }

  @Test
  void h2loadSeesNoRequestFailAfterSending() throws Exception {
    boolean installed = H2load.installed();
    // Skipped on a developer machine without h2load; CI installs it, so there it must run.
    Assumptions.assumeTrue(installed || System.getenv("CI") != null, "h2load is not installed");
    assertThat(installed).as("h2load on the PATH").isTrue();

    try (ServiceProcess service = start(AGE_MS, Map.of())) {
      String url = "http://127.0.0.1:" + service.port() + "/job?ms=20";
      // h2load never reconnects after a GOAWAY: each connection ends at its age, and the requests
      // it had yet to send count as failed without having been sent.
      try (H2load load = H2load.start(dir, List.of(), url, 4, 8, 3)) {
        H2load.Counts counts = load.counts(30);
        System.out.println("h2load with connection age: " + counts.json());
        assertThat(counts.succeeded()).isGreaterThan(0);
        assertThat(counts.failedAfterSending()).as("failed after sending").isZero();
        assertThat(counts.timeout()).as("timed out").isZero();
        assertThat(counts.status5xx()).as("5xx").isZero();
        assertThat(counts.status2xx()).isEqualTo(counts.succeeded());
      }
      service.signal("TERM");
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
    }
  }

  /**
   * Retired for its age, an HTTP/2 connection waits for a stream in progress however long it takes:
   * here longer than the grace an idle connection's streams get (HTTP_IDLE_TIMEOUT_MS).
   */
  @Test
  void anHttp2StreamInProgressOutlastsItsConnectionsAge() throws Exception {
    try (ServiceProcess service = start(AGE_MS, Map.of("HTTP_IDLE_TIMEOUT_MS", "1000"))) {
      H2Client client = new H2Client("127.0.0.1", service.port());
      try {
        long started = System.nanoTime();
        CompletableFuture<H2Client.Response> job = client.get("/job?ms=2500");
        // Requests until one finds the connection old enough: it gets the first GOAWAY.
        while (!client.goAway(0).isDone()) {
          assertThat(client.get("/hello").get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
        }
        assertThat(job.get(20, TimeUnit.SECONDS).status()).isEqualTo(200);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started))
            .isGreaterThanOrEqualTo(2500);
        client.closed().get(10, TimeUnit.SECONDS);
      } finally {
        client.close();
      }
      service.signal("TERM");
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
    }
  }

  /**
   * An event stream or a WebSocket asked for on a connection past its age lives on: the stream
   * closes its connection only when it ends, and the WebSocket's handshake is not told to close.
   */
  @Test
  void anEventStreamAndAWebSocketAreNotCutByAge() throws Exception {
    try (ServiceProcess service = start(2000, Map.of());
        RawHttp clock = new RawHttp("127.0.0.1", service.port(), 10_000)) {
      // A first request warms the routes: a cold one may take longer than an age.
      assertThat(clock.get("/hello").status()).isEqualTo(200);
      RawHttp forEvents = new RawHttp("127.0.0.1", service.port(), 10_000);
      RawHttp forWebSocket = new RawHttp("127.0.0.1", service.port(), 10_000);
      assertThat(forEvents.get("/hello").connectionClose()).isFalse();
      assertThat(forWebSocket.get("/hello").connectionClose()).isFalse();
      // 25 ticks of the server's 100 ms clock: both connections are past their age.
      clock.send("/events");
      assertThat(clock.readHead().status()).isEqualTo(200);
      readTicks(clock, 25);

      forEvents.send("/events");
      RawHttp.Response events = forEvents.readHead();
      assertThat(events.status()).isEqualTo(200);
      assertThat(events.connectionClose()).as("told to close once the stream ends").isTrue();
      readTicks(forEvents, 10);

      // The handshake's 101 always says "Connection: Upgrade": the count tells whether it was
      // retired.
      double retired = retired(service);
      RawHttp.Response upgraded = forWebSocket.upgradeToWebSocket("/ws");
      assertThat(upgraded.status()).isEqualTo(101);
      assertThat(retired(service)).as("retired connections").isEqualTo(retired);
      for (int i = 0; i < 3; i++) {
        readTicks(clock, 3);
        forWebSocket.sendText("ping " + i);
        assertThat(forWebSocket.readText()).isEqualTo("ping " + i);
      }
      forEvents.close();
      forWebSocket.close();
    }
  }

  /** service_http_connections_retired_total, scraped on a new connection (too young to retire). */
  private static double retired(ServiceProcess service) throws Exception {
    try (RawHttp scrape = new RawHttp("127.0.0.1", service.port(), 10_000)) {
      Matcher retired = RETIRED.matcher(scrape.get("/metrics").body());
      assertThat(retired.find()).as("service_http_connections_retired_total").isTrue();
      return Double.parseDouble(retired.group(1));
    }
  }

  private static void readTicks(RawHttp stream, int ticks) throws Exception {
    for (int seen = 0; seen < ticks; ) {
      if (stream.readLine().startsWith("event: tick")) {
        seen++;
      }
    }
  }

  /**
   * Waits until {@code connections} counts at least two per client, and at least three ages have
   * passed since {@code started}.
   */
  private static void awaitAges(LongSupplier connections, long started)
      throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < until
        && (connections.getAsLong() < 2L * CLIENTS
            || System.nanoTime() - started < TimeUnit.MILLISECONDS.toNanos(3L * AGE_MS))) {
      Thread.sleep(20); // a count the clients keep: no event to wait on
    }
  }
}
