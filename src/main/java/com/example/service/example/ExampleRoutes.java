package com.example.service.example;

import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;

/** The example's routes; {@code Main} and the tests mount the same ones. */
public final class ExampleRoutes {

  private ExampleRoutes() {}

  /** Adds {@code GET /hello} and {@code GET /work?ms=N} to {@code router}. */
  public static void mount(Vertx vertx, Router router) {
    router.get("/hello").handler(new HelloHandler());
    router.get("/work").handler(new WorkHandler(vertx));
  }
}
