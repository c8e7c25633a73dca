package com.example.service.lifecycle;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.ThreadingModel;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.http.impl.HttpServerConnection;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.net.impl.ConnectionBase;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.util.function.Supplier;

/**
 * Turns an accepted connection whose client opened with the HTTP/2 preface into one of Vert.x's own
 * HTTP/2 server connections, serving the same routes.
 *
 * <p>Why not Vert.x's own h2c detection ({@code setHttp2ClearTextEnabled}): it makes the HTTP/1
 * connection only once the first request head has been decoded, by a decoder that is not the {@link
 * ConnectionGuard}, so a first request would escape every limit the guard keeps, and a connection
 * that sends nothing would not be tracked by the drain. So the server stays HTTP/1 at accept, the
 * guard sees every byte from the first, and on the preface it hands the pipeline to this.
 *
 * <p>Vert.x 5.0 makes its HTTP/2 handler only in package-private code ({@code
 * HttpServerConnectionInitializer.buildHttp2ConnectionHandler}), reached here by reflection, as the
 * guard reaches {@code HttpServerConnection}. The Vert.x BOM pins it; the HTTP/2 tests exercise it,
 * so an upgrade that moves it fails them, and the lookup fails at startup, not on a connection.
 */
final class Http2Switch {

  private static final String IMPL = "io.vertx.core.http.impl.";
  private static final Constructor<?> HANDLERS;
  private static final Constructor<?> INITIALIZER;
  private static final Method BUILD;

  static {
    try {
      Class<?> server = Class.forName(IMPL + "HttpServerImpl");
      Class<?> handlers = Class.forName(IMPL + "HttpServerConnectionHandler");
      Class<?> initializer = Class.forName(IMPL + "HttpServerConnectionInitializer");
      HANDLERS =
          handlers.getDeclaredConstructor(
              server,
              Handler.class,
              Handler.class,
              Handler.class,
              Handler.class,
              Handler.class,
              Handler.class);
      INITIALIZER =
          initializer.getDeclaredConstructor(
              ContextInternal.class,
              ThreadingModel.class,
              Supplier.class,
              server,
              VertxInternal.class,
              HttpServerOptions.class,
              String.class,
              Handler.class,
              Handler.class,
              Object.class);
      BUILD = initializer.getDeclaredMethod("buildHttp2ConnectionHandler");
      HANDLERS.setAccessible(true);
      INITIALIZER.setAccessible(true);
      BUILD.setAccessible(true);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(
          "this Vert.x version builds its HTTP/2 handler differently: " + e);
    }
  }

  private final HttpServer server;
  private final ContextInternal context;
  private final HttpServerOptions options;
  private final Handler<HttpServerRequest> invalidRequests;
  private final Handler<Throwable> errors;
  private final String origin;

  /**
   * @param server the HTTP/1 server whose routes ({@code requestHandler}) HTTP/2 streams reach
   * @param context the server's event loop
   * @param invalidRequests for a stream Vert.x cannot parse
   * @param errors for a connection's failures (a client's protocol error, say)
   */
  Http2Switch(
      HttpServer server,
      Context context,
      HttpServerOptions options,
      Handler<HttpServerRequest> invalidRequests,
      Handler<Throwable> errors) {
    this.server = server;
    this.context = (ContextInternal) context;
    this.options = options;
    this.invalidRequests = invalidRequests;
    this.errors = errors;
    this.origin = "http://" + options.getHost() + ":" + options.getPort();
  }

  /**
   * Replaces the HTTP/1 handlers after the decoder with Vert.x's HTTP/2 connection handler; the
   * decoder then removes itself, passing the preface on. {@code connections} is told of the new
   * connection once the client's SETTINGS have arrived.
   *
   * @param http1 the connection Vert.x made at accept; its TCP metric is carried over
   */
  void switchPipeline(HttpConnection http1, Handler<HttpConnection> connections) {
    ChannelPipeline pipeline = ((HttpServerConnection) http1).channelHandlerContext().pipeline();
    Object metric = ((ConnectionBase) http1).metric();
    try {
      Object handlers =
          HANDLERS.newInstance(
              server,
              server.requestHandler(),
              invalidRequests,
              (Handler<ServerWebSocket>) null,
              (Handler<ServerWebSocketHandshake>) null,
              connections,
              errors);
      Supplier<ContextInternal> streams = context::duplicate;
      Object initializer =
          INITIALIZER.newInstance(
              context,
              context.threadingModel(),
              streams,
              server,
              context.owner(),
              options,
              origin,
              handlers,
              errors,
              metric);
      ChannelHandler http2 = (ChannelHandler) BUILD.invoke(initializer);
      for (String name : new String[] {"httpEncoder", ConnectionGuard.RESPONSE_WATCH}) {
        if (pipeline.get(name) != null) {
          pipeline.remove(name);
        }
      }
      pipeline.replace("handler", "handler", http2);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot switch the connection to HTTP/2", e);
    }
  }
}
