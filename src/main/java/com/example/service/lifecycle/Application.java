package com.example.service.lifecycle;

import io.vertx.core.Vertx;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.web.Router;
import java.util.List;

/**
 * What a service built on this template serves: its configuration keys, its components, its routes
 * and its readiness checks. {@code Main} and the tests run the same object.
 */
public interface Application {

  /** The configuration keys the application adds to {@link LifecycleOptions#KEYS}. */
  List<Config.Key<?>> keys();

  /**
   * The verticles the HTTP routes depend on, dependencies first. They are deployed in this order
   * before HTTP and stopped in reverse order after it has drained.
   */
  List<Component> components(Config config);

  /** Mounts the application's routes. Runs once per HTTP event loop, each with its own router. */
  void routes(Vertx vertx, Router router, Config config);

  /**
   * Registers readiness checks of the application's own beside the lifecycle's "not shutting down".
   * Runs once per HTTP event loop.
   */
  default void readinessChecks(Vertx vertx, HealthChecks checks, Config config) {}
}
