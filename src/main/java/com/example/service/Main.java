package com.example.service;

import com.example.service.example.ExampleRoutes;
import com.example.service.example.JournalVerticle;
import com.example.service.example.WorkerVerticle;
import com.example.service.lifecycle.HttpVerticle;
import com.example.service.lifecycle.Logging;
import com.example.service.lifecycle.Service;
import com.example.service.lifecycle.Service.Component;
import com.example.service.lifecycle.ShutdownSignals;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/** Starts the service, serves until SIGTERM or SIGINT, then shuts it down without losing work. */
public final class Main {

  private static final Logger LOG = Logger.getLogger("main");

  private Main() {}

  public static void main(String[] args) {
    Logging.configure();
    ShutdownSignals signals = ShutdownSignals.install();
    // No classpath file cache: this service serves no files from the classpath, and the cache is a
    // temp directory Vert.x would create and then delete again on the way out.
    Vertx vertx =
        Vertx.vertx(
            new VertxOptions()
                .setFileSystemOptions(
                    new FileSystemOptions()
                        .setClassPathResolvingEnabled(false)
                        .setFileCachingEnabled(false)));

    // Startup: configuration, then each component in dependency order, HTTP last.
    Service service;
    try {
      ServiceConfig config = ServiceConfig.load(vertx, Path.of("conf", "config.json")).await();
      List<Component> components =
          List.of(
              new Component(
                  "journal", new JournalVerticle(config.journalPath()), ThreadingModel.WORKER),
              new Component("worker", new WorkerVerticle(), ThreadingModel.EVENT_LOOP));
      service =
          Service.start(vertx, config, components, new HttpVerticle(config, ExampleRoutes::mount))
              .await();
    } catch (Exception e) {
      LOG.severe("startup failed: " + e.getMessage());
      vertx.close().timeout(1, TimeUnit.SECONDS).otherwiseEmpty().await();
      System.exit(Service.EXIT_STARTUP_FAILED);
      return;
    }

    // Serve until the first signal; a second one exits at once (see ShutdownSignals).
    String signal = signals.await();

    // Shutdown: drain HTTP, stop the components in reverse order, close Vert.x.
    System.exit(service.shutdown(signal).await());
  }
}
