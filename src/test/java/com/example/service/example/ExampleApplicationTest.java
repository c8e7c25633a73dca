package com.example.service.example;

import static org.assertj.core.api.Assertions.assertThat;

import com.example.service.lifecycle.Config;
import com.example.service.lifecycle.LifecycleOptions;
import com.example.service.lifecycle.Service;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The example application's own behaviour: its routes, its journal, its config and readiness. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class ExampleApplicationTest {

  @TempDir Path dir;

  private static List<Config.Key<?>> keys() {
    List<Config.Key<?>> keys = new ArrayList<>(LifecycleOptions.KEYS);
    keys.addAll(new ExampleApplication().keys());
    return keys;
  }

  private Service start(Vertx vertx) {
    JsonObject json =
        new JsonObject()
            .put("HTTP_HOST", "127.0.0.1")
            .put("HTTP_PORT", 0)
            .put("HTTP_INSTANCES", 2)
            .put("SHUTDOWN_DELAY_MS", 0)
            .put("SHUTDOWN_TIMEOUT_MS", 5000)
            .put("SHUTDOWN_IDLE_MS", 200)
            .put("JOURNAL_PATH", dir.resolve("journal.jsonl").toString());
    return Service.start(vertx, new ExampleApplication(), Config.from(json, keys())).await();
  }

  private final HttpClient http =
      HttpClient.newBuilder()
          .executor(java.util.concurrent.Executors.newFixedThreadPool(2))
          .build();

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void theShippedConfigFileIsValidAndHasEveryKey(Vertx vertx) {
    Config config = Config.load(vertx, keys(), new String[] {"conf/config.json"}).await();
    assertThat(config.get(LifecycleOptions.HTTP_PORT)).isEqualTo(8080);
    assertThat(config.get(ExampleApplication.JOURNAL_PATH))
        .isEqualTo(Path.of("data/journal.jsonl"));
  }

  @Test
  void workRejectsBadInputWith400AndJournalsWhatItAnswers(Vertx vertx) throws Exception {
    Service service = start(vertx);
    String base = "http://127.0.0.1:" + service.httpPort();
    for (String bad : List.of("", "?ms=", "?ms=-1", "?ms=60001", "?ms=abc", "?ms=1.5")) {
      HttpResponse<String> response = get(base + "/work" + bad);
      assertThat(response.statusCode()).as(bad).isEqualTo(400);
      assertThat(response.body()).contains("ms must be an integer from 0 to 60000");
    }
    HttpResponse<String> ok = get(base + "/work?ms=0");
    assertThat(ok.statusCode()).isEqualTo(200);
    String id = new JsonObject(ok.body()).getString("id");

    HttpResponse<String> ready = get(base + "/health/ready");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).contains("journal");

    assertThat(service.shutdown("test").await()).isEqualTo(Service.EXIT_OK);
    assertThat(Files.readString(dir.resolve("journal.jsonl"))).contains(id);
  }
}
