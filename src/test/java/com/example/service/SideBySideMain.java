package com.example.service;

import com.example.service.lifecycle.Application;
import com.example.service.lifecycle.Component;
import com.example.service.lifecycle.Config;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.web.Router;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link TestMain} with bare Vert.x beside it in the same process, for {@code bench/sidebyside.sh}:
 * {@link BaselineMain}'s verticle, one more component, serves its {@code GET /hello} on {@code
 * BARE_PORT}, on an event loop of its own. Both servers run the same compiled code, so what their
 * event loops spend per request differs only by the template's own per-request work, and not by the
 * JIT's choices in one process against another's.
 */
public final class SideBySideMain {

  private SideBySideMain() {}

  public static void main(String[] args) {
    int barePort = Integer.parseInt(System.getenv("BARE_PORT"));
    TestApplication tests = new TestApplication();
    Application both =
        new Application() {
          @Override
          public List<Config.Key<?>> keys() {
            return tests.keys();
          }

          @Override
          public List<Component> components(Config config) {
            List<Component> components = new ArrayList<>(tests.components(config));
            components.add(
                new Component(
                    "bare-vertx",
                    new BaselineMain("127.0.0.1", barePort),
                    ThreadingModel.EVENT_LOOP));
            return components;
          }

          @Override
          public void routes(Vertx vertx, Router router, Config config) {
            tests.routes(vertx, router, config);
          }

          @Override
          public void readinessChecks(Vertx vertx, HealthChecks checks, Config config) {
            tests.readinessChecks(vertx, checks, config);
          }
        };
    System.exit(Main.run(both, args));
  }
}
