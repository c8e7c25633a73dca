package com.example.service.example;

import static org.assertj.core.api.Assertions.assertThat;

import com.example.service.RawHttp;
import com.example.service.ServiceProcess;
import com.example.service.lifecycle.Service;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The example's jar under a load of {@code POST /work}, stopped by SIGTERM, by its deadline, and by
 * {@code kill -9}, against H2 and PostgreSQL: what the clients were told is what the database
 * holds, exactly, and a job is never made twice.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WorkShutdownIT {

  static final int CLIENTS = 16;

  private static Postgres postgres;

  @TempDir Path dir;

  @BeforeAll
  static void startPostgres() throws Exception {
    postgres = Postgres.start();
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    postgres.close();
  }

  private ServiceProcess start(TestDatabase db, Map<String, String> settings) throws Exception {
    Map<String, String> env = new HashMap<>(settings);
    env.put("DATABASE_URL", db.url());
    return ServiceProcess.javaIn(
        Path.of("").toAbsolutePath(), List.of("-jar", ServiceProcess.jar()), dir, env);
  }

  /**
   * SIGTERM mid-load: every request is answered 201, every id a client got is committed and nothing
   * else is; with keys and without.
   */
  @ParameterizedTest(name = "{0}, HTTP_INSTANCES={1}, SHUTDOWN_DELAY_MS={2}, keys: {3}")
  @CsvSource({
    "h2, 1, 0, true",
    "h2, 4, 1000, true",
    "h2, 4, 0, false",
    "postgresql, 1, 1000, true",
    "postgresql, 4, 0, true",
    "postgresql, 1, 0, false"
  })
  void whatClientsWereToldIsWhatIsCommitted(String kind, int instances, int delayMs, boolean keyed)
      throws Exception {
    TestDatabase db = TestDatabase.of(kind, dir, postgres);
    JobClients clients;
    int status;
    String output;
    try (ServiceProcess service =
        start(
            db,
            Map.of(
                "HTTP_INSTANCES", Integer.toString(instances),
                "SHUTDOWN_DELAY_MS", Integer.toString(delayMs)))) {
      clients = new JobClients(service.port(), CLIENTS, 2, keyed);
      clients.start();
      clients.acked(20L * CLIENTS).get(60, TimeUnit.SECONDS);
      // The pool's own metrics, by its name.
      try (RawHttp metrics = new RawHttp("127.0.0.1", service.port(), 10_000)) {
        metrics.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        assertThat(metrics.read().body())
            .contains("vertx_pool_in_use{pool_name=\"jobs\",pool_type=\"sql\"}")
            .contains("vertx_pool_queue_pending{pool_name=\"jobs\",pool_type=\"sql\"}");
      }
      service.signal("TERM");
      status = service.awaitExit(Duration.ofSeconds(40));
      clients.stop();
      output = service.output();
    }
    List<String> committed = db.jobIds();
    report("SIGTERM", kind, instances, delayMs, keyed, clients, committed);

    assertThat(status).isEqualTo(Service.EXIT_OK);
    assertThat(clients.unanswered()).as("requests that got no id").isEmpty();
    assertThat(clients.others()).isZero();
    assertThat(Postgres.repeated(committed)).isEmpty();
    assertThat(new HashSet<>(committed)).isEqualTo(clients.ackedIds());
    // The pool closes after the drain and after the worker.
    assertThat(output.indexOf("drained http"))
        .isPositive()
        .isLessThan(output.indexOf("stopped worker"));
    assertThat(output.indexOf("stopped worker")).isLessThan(output.indexOf("stopped store"));
  }

  /**
   * Jobs longer than the shutdown's budget: answered 503 at the deadline and not committed; their
   * retries with the same keys after a restart make each job once, however often they are sent.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"h2", "postgresql"})
  void jobsCutByTheDeadlineAreMadeOnceByTheirRetries(String kind) throws Exception {
    TestDatabase db = TestDatabase.of(kind, dir, postgres);
    JobClients clients;
    try (ServiceProcess service = start(db, Map.of("SHUTDOWN_TIMEOUT_MS", "1000"))) {
      clients = new JobClients(service.port(), 8, 5000, true);
      clients.start();
      // Each client's one request is held by the service, not only sent: a connection still in the
      // kernel's accept queue at SIGTERM is reset, and the service would have nothing to cut.
      clients.sent(8).get(30, TimeUnit.SECONDS);
      awaitInFlight(service.port(), 8);
      service.signal("TERM");
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isEqualTo(Service.EXIT_INCOMPLETE);
      clients.stop();
    }
    Set<String> keys = clients.unanswered();
    assertThat(clients.ackedIds()).isEmpty();
    assertThat(keys).hasSize(8);
    assertThat(db.jobIds()).as("jobs committed after their 503").isEmpty();

    Map<String, String> first = resendAfterRestart(db, clients, keys);
    Map<String, String> second = resendAfterRestart(db, clients, keys);
    List<String> committed = db.jobIds();
    System.out.printf(
        "work shutdown result: deadline, %s, 8 jobs of 5000 ms, SHUTDOWN_TIMEOUT_MS=1000: answered"
            + " 503 %d, committed at exit 0; each retried twice with its key after restarts:"
            + " distinct ids %d, committed %d, duplicates %d%n",
        kind,
        keys.size(),
        new HashSet<>(first.values()).size(),
        committed.size(),
        Postgres.repeated(committed).size());
    assertThat(first).hasSize(8);
    assertThat(second).isEqualTo(first);
    assertThat(committed).containsExactlyInAnyOrderElementsOf(first.values());
  }

  /**
   * {@code kill -9} mid-load: every id a client got is committed, and after a restart the clients'
   * retries with their keys learn the id of every other committed job, and make the rest once.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"h2", "postgresql"})
  void everyAcknowledgedJobSurvivesKill9(String kind) throws Exception {
    TestDatabase db = TestDatabase.of(kind, dir, postgres);
    JobClients clients;
    try (ServiceProcess service = start(db, Map.of("HTTP_INSTANCES", "2"))) {
      clients = new JobClients(service.port(), CLIENTS, 0, true);
      clients.start();
      clients.acked(20L * CLIENTS).get(60, TimeUnit.SECONDS);
      service.signal("KILL");
      service.awaitExit(Duration.ofSeconds(10));
      clients.stop();
    }
    List<String> beforeRetries = db.jobIds();
    report("kill -9", kind, 2, 0, true, clients, beforeRetries);
    assertThat(beforeRetries).containsAll(clients.ackedIds());

    // The clients retry what got no answer: a job committed just before the kill is answered now.
    Set<String> keys = clients.unanswered();
    Map<String, String> retried = resendAfterRestart(db, clients, keys);
    List<String> committed = db.jobIds();
    Set<String> told = new HashSet<>(clients.ackedIds());
    told.addAll(retried.values());
    System.out.printf(
        "work shutdown result: kill -9, %s, then %d unanswered requests retried with their keys:"
            + " ids told %d, committed %d, duplicates %d%n",
        kind, keys.size(), told.size(), committed.size(), Postgres.repeated(committed).size());
    assertThat(retried).hasSize(keys.size());
    assertThat(Postgres.repeated(committed)).isEmpty();
    assertThat(new HashSet<>(committed)).isEqualTo(told);
  }

  /**
   * Starts the service on {@code db} again, has the clients resend the requests of {@code keys}
   * with their keys, and stops it cleanly; returns the id each got.
   */
  private Map<String, String> resendAfterRestart(
      TestDatabase db, JobClients clients, Set<String> keys) throws Exception {
    try (ServiceProcess service = start(db, Map.of())) {
      Map<String, String> ids = clients.resend(service.port(), keys);
      service.signal("TERM");
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isEqualTo(Service.EXIT_OK);
      return ids;
    }
  }

  /**
   * Waits until the service counts {@code n} requests in flight besides the scrape that asks (it is
   * one of them).
   */
  private static void awaitInFlight(int port, int n) throws Exception {
    Pattern gauge = Pattern.compile("(?m)^service_http_requests_in_flight (\\S+)$");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try (RawHttp metrics = new RawHttp("127.0.0.1", port, 10_000)) {
        metrics.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        Matcher m = gauge.matcher(metrics.read().body());
        assertThat(m.find()).as("the in-flight gauge").isTrue();
        if (Double.parseDouble(m.group(1)) - 1 >= n) {
          return;
        }
      }
      assertThat(System.nanoTime()).as("%d requests in flight in time", n).isLessThan(deadline);
      Thread.onSpinWait();
    }
  }

  /** One line per run, for the README's table: what clients were told, what is committed. */
  private static void report(
      String how,
      String kind,
      int instances,
      int delayMs,
      boolean keyed,
      JobClients clients,
      List<String> committed) {
    Set<String> unacked = new HashSet<>(committed);
    unacked.removeAll(clients.ackedIds());
    System.out.printf(
        "work shutdown result: %s, %s, HTTP_INSTANCES=%d, SHUTDOWN_DELAY_MS=%d, keys %s:"
            + " acknowledged %d, committed %d, committed but not acknowledged %d,"
            + " duplicates %d, unanswered %d%n",
        how,
        kind,
        instances,
        delayMs,
        keyed ? "yes" : "no",
        clients.ackedIds().size(),
        committed.size(),
        unacked.size(),
        Postgres.repeated(committed).size(),
        clients.unanswered().size());
  }
}
