package com.example.service.lifecycle.internal;

import com.example.service.lifecycle.LifecyclePhase;
import com.example.service.lifecycle.Logging;
import com.example.service.lifecycle.ServiceState;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One line per request ({@code ACCESS_LOG=true}), logger {@code access}: method, path, status,
 * duration, and the lifecycle phase it was answered in when that is not serving. With {@code
 * LOG_FORMAT=json} each of those is a field of its own.
 */
final class AccessLog implements Handler<RoutingContext> {

  private static final Logger LOG = Logger.getLogger("access");

  private final ServiceState drain;

  public AccessLog(ServiceState drain) {
    this.drain = drain;
  }

  @Override
  public void handle(RoutingContext ctx) {
    long start = System.nanoTime();
    ctx.addEndHandler(
        ar -> {
          double ms = Math.round((System.nanoTime() - start) / 10_000.0) / 100.0;
          String method = ctx.request().method().name();
          String path = ClientErrors.printable(ctx.request().path());
          // Not ar.succeeded(): see LoopConnections.handle on HTTP/2's close-before-end.
          int status = ctx.response().ended() ? ctx.response().getStatusCode() : 0;
          LifecyclePhase phase = drain.phase();
          Logging.log(
              LOG,
              Level.INFO,
              method
                  + " "
                  + path
                  + " "
                  + (status != 0 ? status : "closed before the response ended")
                  + " "
                  + ms
                  + " ms"
                  + (phase == LifecyclePhase.SERVING ? "" : " (" + phase + ")"),
              Map.of(
                  "method", method,
                  "path", path,
                  "status", status,
                  "duration_ms", ms,
                  "phase", phase.name()));
        });
    ctx.next();
  }
}
