package com.example.service;

import com.example.service.example.ExampleApplication;
import com.example.service.lifecycle.Application;
import com.example.service.lifecycle.ClassPreload;
import com.example.service.lifecycle.Config;
import com.example.service.lifecycle.LifecycleOptions;
import com.example.service.lifecycle.Logging;
import com.example.service.lifecycle.Metrics;
import com.example.service.lifecycle.Service;
import com.example.service.lifecycle.ShutdownSignals;
import com.example.service.lifecycle.SystemDefaults;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/** Starts the service, serves until SIGTERM or SIGINT, then shuts it down without losing work. */
public final class Main {

  private static final Logger LOG = Logger.getLogger("main");

  // Before anything can load Netty, the application's constructor included.
  static {
    SystemDefaults.apply();
  }

  private Main() {}

  /**
   * Runs the application named below: name yours there.
   *
   * @param args optionally, the config file (else {@code CONFIG_PATH}, else conf/config.json)
   */
  public static void main(String[] args) {
    System.exit(run(new ExampleApplication(), args));
  }

  /** Runs {@code application} until a signal, and returns the exit status. */
  public static int run(Application application, String[] args) {
    // The lifecycle's classes load on a second thread meanwhile, ahead of this one; loaded, never
    // initialized there, so SystemDefaults (above) still comes first for Netty.
    ClassPreload.start();
    Logging.configure();
    ShutdownSignals signals = ShutdownSignals.install();

    // Startup: configuration first, as it says how Vert.x is made (metrics on or off).
    Config config;
    try {
      config = Config.load(LifecycleOptions.keysWith(application), args);
    } catch (Exception e) {
      // Without a configuration, the environment still says how a log shipper reads this line.
      Logging.useFormat(System.getProperty("LOG_FORMAT", System.getenv("LOG_FORMAT")));
      LOG.severe("startup failed: " + e.getMessage());
      return Service.EXIT_STARTUP_FAILED;
    }
    Logging.useFormat(config.get(LifecycleOptions.LOG_FORMAT));
    signals.warnIfIgnored();
    Metrics metrics =
        config.get(LifecycleOptions.METRICS_ENABLED)
            ? Metrics.prometheus(config.get(LifecycleOptions.METRICS_GC_PAUSES))
            : null;
    // No classpath file cache: this service serves no files from the classpath, and the cache is a
    // temp directory Vert.x would create and then delete again on the way out. An event loop for
    // each HTTP verticle, also past Vert.x's default pool (twice the processors).
    VertxOptions options =
        new VertxOptions()
            .setEventLoopPoolSize(
                Math.max(
                    VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE,
                    config.get(LifecycleOptions.HTTP_INSTANCES)))
            .setFileSystemOptions(
                new FileSystemOptions()
                    .setClassPathResolvingEnabled(false)
                    .setFileCachingEnabled(false));
    Vertx vertx =
        metrics == null
            ? Vertx.vertx(options)
            : metrics.vertx(options, config.get(LifecycleOptions.METRICS_HTTP_REQUESTS));

    // Then each component in dependency order, HTTP last. A signal meanwhile cuts the start short,
    // and the shutdown below stops what did start (see Service.start).
    Service service;
    try {
      service = Service.start(vertx, application, config, metrics, signals.received()).await();
    } catch (Exception e) {
      LOG.severe("startup failed: " + e.getMessage());
      vertx.close().timeout(1, TimeUnit.SECONDS).otherwiseEmpty().await();
      if (metrics != null) {
        metrics.close();
      }
      return Service.EXIT_STARTUP_FAILED;
    }

    // Serve until the first signal; a second one exits at once (see ShutdownSignals).
    String signal = signals.await();

    // Shutdown: drain HTTP, stop the components in reverse order, close Vert.x.
    int status = service.shutdown(signal).await();
    if (metrics != null) {
      metrics.close();
    }
    return status;
  }
}
