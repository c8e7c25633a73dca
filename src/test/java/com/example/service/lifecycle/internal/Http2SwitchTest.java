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
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What an HTTP/1 connection that turned HTTP/2 keeps of its HTTP/1 pipeline: nothing. */
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

  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  @ParameterizedTest(name = "h2c upgrade: {0}")
  @ValueSource(booleans = {false, true})
  void anHttp2ConnectionKeepsOnlyVertxsHandler(boolean upgrade, Vertx vertx) {
    JsonObject json =
        new JsonObject()
            .put("HTTP_HOST", "127.0.0.1")
            .put("HTTP_PORT", 0)
            .put("HTTP_INSTANCES", 1)
            .put("HTTP2_UPGRADE", true);
    Service service =
        Service.start(vertx, PIPELINE, Config.from(json, LifecycleOptions.keysWith(PIPELINE)))
            .await();
    HttpClient client =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setProtocolVersion(HttpVersion.HTTP_2)
                .setHttp2ClearTextUpgrade(upgrade));
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
}
