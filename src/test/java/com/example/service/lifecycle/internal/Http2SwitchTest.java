package com.example.service.lifecycle.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.example.service.lifecycle.Application;
import com.example.service.lifecycle.Component;
import com.example.service.lifecycle.Config;
import com.example.service.lifecycle.LifecycleOptions;
import com.example.service.lifecycle.Service;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.junit5.VertxExtension;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What an HTTP/1 connection that turned HTTP/2 keeps of its HTTP/1 pipeline, and of the objects
 * that served it: nothing.
 */
@ExtendWith(VertxExtension.class)
class Http2SwitchTest {

  /** Answers with the names of its connection's handlers, in pipeline order. */
  private static final Application PIPELINE =
      new Application() {
        @Override
        public List<Config.Key<?>> keys() {
          return List.of();
        }

        @Override
        public List<Component> components(Config config) {
          return List.of();
        }

        @Override
        public void routes(Vertx vertx, Router router, Config config) {
          router
              .get("/pipeline")
              .handler(
                  ctx ->
                      ctx.end(
                          String.join(
                              ",",
                              Internals.pipeline(ctx.request().connection())
                                  .pipeline()
                                  .toMap()
                                  .keySet())));
        }
      };

  /** The service on one loop and an ephemeral port, with h2c upgrades on. */
  private static Service start(Vertx vertx) {
    JsonObject json =
        new JsonObject()
            .put("HTTP_HOST", "127.0.0.1")
            .put("HTTP_PORT", 0)
            .put("HTTP_INSTANCES", 1)
            .put("HTTP2_UPGRADE", true);
    return Service.start(vertx, PIPELINE, Config.from(json, LifecycleOptions.keysWith(PIPELINE)))
        .await();
  }

  /** An HTTP/2 client: with prior knowledge, or by an h2c upgrade. */
  private static HttpClient http2Client(Vertx vertx, boolean upgrade) {
    return vertx.createHttpClient(
        new HttpClientOptions()
            .setProtocolVersion(HttpVersion.HTTP_2)
            .setHttp2ClearTextUpgrade(upgrade));
  }

  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  @ParameterizedTest(name = "h2c upgrade: {0}")
  @ValueSource(booleans = {false, true})
  void anHttp2ConnectionKeepsOnlyVertxsHandler(boolean upgrade, Vertx vertx) {
    Service service = start(vertx);
    HttpClient client = http2Client(vertx, upgrade);
    String answer =
        client
            .request(HttpMethod.GET, service.httpPort(), "127.0.0.1", "/pipeline")
            .compose(HttpClientRequest::send)
            .compose(response -> response.body().map(body -> response.version() + " " + body))
            .await();
    assertThat(answer).isEqualTo("HTTP_2 handler");
    client.close().await();
    assertThat(service.shutdown("test").await()).isZero();
  }

  /**
   * Vert.x's HTTP/2 handler lives as long as its connection, and so does all it holds: the HTTP/1
   * connection made at accept, its guard and decoder were once kept that way, about 6 KB for every
   * HTTP/2 connection's life. Counted live by the JVM's class histogram (a full collection first),
   * beside an HTTP/1.1 connection open at the same time, whose objects show that the count sees
   * them.
   */
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  @ParameterizedTest(name = "h2c upgrade: {0}")
  @ValueSource(booleans = {false, true})
  void anHttp2ConnectionLetsGoOfItsHttp1Objects(boolean upgrade, Vertx vertx) throws Exception {
    Service service = start(vertx);
    HttpClient http2 = http2Client(vertx, upgrade);
    HttpClient http1 = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true));
    for (HttpClient client : List.of(http2, http1)) {
      client
          .request(HttpMethod.GET, service.httpPort(), "127.0.0.1", "/pipeline")
          .compose(HttpClientRequest::send)
          .compose(response -> response.body())
          .await();
    }
    // Both connections are open, in their clients' pools.
    String histogram = liveClassHistogram();
    for (String type :
        List.of(
            "io.vertx.core.http.impl.Http2ServerConnection",
            "io.vertx.core.http.impl.Http1xServerConnection",
            ConnectionGuard.class.getName(),
            Http1Decoder.class.getName())) {
      assertThat(instances(histogram, type)).as("live %s", type).isEqualTo(1);
    }
    http2.close().await();
    http1.close().await();
    assertThat(service.shutdown("test").await()).isZero();
  }

  /**
   * The live objects of this JVM by class: {@code GC.class_histogram}, a full collection first,
   * through the platform's diagnostic-command MBean (jcmd's attach to its own JVM hangs on JDK 25).
   */
  private static String liveClassHistogram() throws Exception {
    return (String)
        ManagementFactory.getPlatformMBeanServer()
            .invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"),
                "gcClassHistogram",
                new Object[] {new String[0]},
                new String[] {String[].class.getName()});
  }

  private static long instances(String histogram, String className) {
    Matcher m =
        Pattern.compile("\\s(\\d+)\\s+\\d+\\s+" + Pattern.quote(className) + "\\s")
            .matcher(histogram);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }
}
