package com.example.service.lifecycle.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.ThreadingModel;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.http.impl.Http2ServerConnection;
import io.vertx.core.http.impl.HttpServerConnection;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.net.impl.ConnectionBase;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The one seam to what is not public, stable API: every use of a Vert.x internal, of reflection,
 * and of the JDK's unsupported signal API in the lifecycle is here, so that upgrading Vert.x is
 * this file's work (the README's "Upgrading Vert.x" says what to check). {@link #check} resolves
 * everything at startup: a Vert.x that lacks something fails there, in one line naming its version,
 * never later on a connection.
 *
 * <p>What is used, why, and what Vert.x 5.1.6 calls it:
 *
 * <ul>
 *   <li>{@code http.impl.HttpServerConnection#channelHandlerContext}: the Netty pipeline of an
 *       accepted connection, where the connection guard's handlers go and the HTTP/2 codec is. 5.1:
 *       same name and package.
 *   <li>{@code http.impl.VertxHttpRequestDecoder}: the guard's decoder is a subclass, so that
 *       Vert.x receives exactly the messages it expects. 5.1: moved to {@code http.impl.http1}; its
 *       constructor takes an {@code Http1ServerConfig} instead of the options.
 *   <li>{@code http.impl.Http2ServerConnection}: tells an HTTP/2 connection from an HTTP/1 one.
 *       5.1: an interface in {@code http.impl.http2}.
 *   <li>{@code net.impl.ConnectionBase#metric}: the TCP metric carried over when a connection
 *       switches to HTTP/2. 5.1: same.
 *   <li>By reflection, {@code http.impl.HttpServerConnectionHandler}'s constructor, {@code
 *       HttpServerConnectionInitializer}'s constructor and its {@code buildHttp2ConnectionHandler},
 *       {@code VertxHttp2ConnectionHandler#serverUpgrade}, and its private field {@code connection}
 *       (the HTTP/2 connection exists from the handler's {@code handlerAdded}, but Vert.x gives it
 *       an exception handler only once the client's first SETTINGS are read, so a client whose
 *       first SETTINGS are invalid would get a SEVERE line in the log from {@code ConnectionBase}):
 *       Vert.x makes its HTTP/2 handler only in package-private code, and the guard switches a
 *       connection to it after seeing the preface (Vert.x's own h2c detection would let a first
 *       request past the guard). 5.1: {@code HttpServerImpl} is gone ({@code
 *       http.impl.tcp.TcpHttpServer}); the handler and initializer moved to {@code http.impl.tcp}
 *       with new constructors; the HTTP/2 handler is built by an {@code
 *       http.impl.http2.Http2ServerChannelInitializer}; {@code VertxHttp2ConnectionHandler} moved
 *       to {@code http.impl.http2.codec}.
 *   <li>{@code internal.ContextInternal} and {@code VertxInternal}: what that constructor takes.
 *       5.1: same.
 *   <li>That Vert.x's HTTP/2 handler is a Netty {@code Http2ConnectionHandler}: {@code
 *       Http2Timeouts} and {@code Http2Streams} find the codec's connection and flow controller
 *       through it, and {@link #closeWhenStreamsEnd} sets its graceful-shutdown timeout to "none",
 *       which Vert.x's {@code shutdown(timeout)} cannot express. 5.1: true of its codec-based
 *       HTTP/2 ({@code http.impl.http2.codec}). Being one, it is also a Netty {@code
 *       ByteToMessageDecoder} that keeps Netty's default cumulator: {@code Http2Timeouts} sets its
 *       own, which reads each read's bytes and then merges them as that default does. Not checked
 *       against 5.1.
 *   <li>That Vert.x's HTTP/2 handler is also its connection's {@code Http2Connection.Listener}:
 *       {@link #shareStreamListener} puts the template's listener in its place, calling it first.
 *       Not checked against 5.1.
 *   <li>Vert.x's names of the HTTP/1 pipeline's handlers ({@link #DECODER}, {@link #ENCODER},
 *       {@link #HANDLER}; 5.1: same), and {@link #WEB_SOCKET_EXTENSIONS} (from {@code
 *       HttpServerConnectionHandler}; not checked against 5.1).
 *   <li>{@link HttpConnection#goAway(long, int)}, public but deprecated in 5.1 (for {@code
 *       shutdown}, which cannot send the first of the drain's two GOAWAYs): there, send it with
 *       Netty's {@code Http2ConnectionHandler#goAway} on {@link #pipeline}'s codec instead.
 *   <li>Netty's {@code Channel.unsafe().outboundBuffer()}: the bytes a connection has queued for a
 *       client that is not reading, which no public method counts.
 *   <li>{@code sun.misc.Signal} (module {@code jdk.unsupported}, exported for exactly this), by
 *       reflection because javac warns on every build that names it: the only way to catch SIGTERM
 *       and still handle a second signal.
 * </ul>
 */
public final class Internals {

  /** Vert.x's name for an HTTP/1 connection's request decoder. */
  static final String DECODER = "httpDecoder";

  /** Vert.x's name for an HTTP/1 connection's response encoder. */
  static final String ENCODER = "httpEncoder";

  /** Vert.x's name for a connection's own handler, the last in its pipeline. */
  static final String HANDLER = "handler";

  /**
   * Vert.x's name for an HTTP/1 connection's WebSocket compression negotiator, which an HTTP/2
   * connection has no use for.
   */
  static final String WEB_SOCKET_EXTENSIONS = "webSocketExtensionHandler";

  private Internals() {}

  /**
   * Resolves every internal this file uses.
   *
   * @throws IllegalStateException naming the Vert.x version and what it lacks
   */
  public static void check() {
    try {
      VertxHttpRequestDecoder.class.getConstructor(HttpServerOptions.class);
      Http2Reflection.get();
    } catch (LinkageError | ReflectiveOperationException | IllegalStateException e) {
      throw new IllegalStateException(
          "Vert.x "
              + vertxVersion()
              + " lacks an internal this template uses (see Internals.java): "
              + e.getMessage());
    }
  }

  /** The Vert.x version on the class path, as vertx-core states it. */
  static String vertxVersion() {
    try (InputStream in =
        Context.class.getClassLoader().getResourceAsStream("META-INF/vertx/vertx-version.txt")) {
      return in == null
          ? "(unknown version)"
          : new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      return "(unknown version)";
    }
  }

  /** The Netty pipeline of a connection Vert.x accepted. */
  static ChannelHandlerContext pipeline(HttpConnection connection) {
    if (!(connection instanceof HttpServerConnection internal)) {
      throw new IllegalStateException("unexpected connection type " + connection.getClass());
    }
    return internal.channelHandlerContext();
  }

  /** Whether {@code connection} is one of Vert.x's HTTP/2 server connections. */
  static boolean isHttp2(HttpConnection connection) {
    return connection instanceof Http2ServerConnection;
  }

  /** Sends a GOAWAY naming {@code lastStreamId}, with no error. */
  @SuppressWarnings("deprecation") // see the class Javadoc for 5.1
  static void goAway(HttpConnection http2, int lastStreamId) {
    http2.goAway(0, lastStreamId);
  }

  /**
   * Closes an HTTP/2 connection once its last stream ends, however long that takes: Netty's
   * graceful shutdown with no timeout (-1), which schedules no timer. Vert.x's {@code shutdown}
   * takes a timeout and arms a timer with it, which would hold the connection until it fires.
   */
  static void closeWhenStreamsEnd(HttpConnection http2) {
    ChannelHandlerContext codec = pipeline(http2);
    ((Http2ConnectionHandler) codec.handler()).gracefulShutdownTimeoutMillis(-1);
    codec.channel().close();
  }

  /**
   * Replaces Vert.x's listener of an HTTP/2 connection's streams, its HTTP/2 handler, with {@code
   * withVertx} applied to it, which must pass every event on to it first. Netty calls every
   * listener of a connection on each event of every stream, through one call site that sees all
   * their kinds; a listener that shares Vert.x's place costs about 1% less of an HTTP/2 request's
   * CPU than one of its own (docs/performance.md). The order of the listeners is kept: Vert.x's was
   * the last when the connection's handlers were added.
   */
  static void shareStreamListener(
      Http2ConnectionHandler codec, UnaryOperator<Http2Connection.Listener> withVertx) {
    Http2Connection connection = codec.connection();
    if (codec instanceof Http2Connection.Listener vertx) {
      connection.removeListener(vertx);
      connection.addListener(withVertx.apply(vertx));
    } else {
      // A codec of Netty's own (the timeouts' tests): it has no listener to share.
      connection.addListener(withVertx.apply(new Http2ConnectionAdapter()));
    }
  }

  /** Bytes written to {@code channel} and not yet taken by the kernel. */
  static long pendingBytes(Channel channel) {
    ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
    return buffer == null ? 0 : buffer.totalPendingWriteBytes();
  }

  /** Vert.x's HTTP/1 request decoder, to extend. */
  abstract static class RequestDecoder extends VertxHttpRequestDecoder {
    RequestDecoder(HttpServerOptions options) {
      super(options);
    }
  }

  /**
   * Vert.x's HTTP/2 connection handler for a connection accepted as HTTP/1 by {@code server}.
   *
   * @param http1 the connection Vert.x made at accept; its TCP metric is carried over
   * @param connections told of the HTTP/2 connection once the client's SETTINGS have arrived
   */
  static ChannelHandler http2Handler(
      HttpServer server,
      Context context,
      HttpServerOptions options,
      Handler<HttpServerRequest> invalidRequests,
      Handler<Throwable> errors,
      HttpConnection http1,
      Handler<HttpConnection> connections) {
    Http2Reflection handles = Http2Reflection.get();
    ContextInternal loop = (ContextInternal) context;
    Object metric = ((ConnectionBase) http1).metric();
    String origin = "http://" + options.getHost() + ":" + options.getPort();
    try {
      Object handlers =
          handles.handlers.newInstance(
              server,
              server.requestHandler(),
              invalidRequests,
              (Handler<ServerWebSocket>) null,
              (Handler<ServerWebSocketHandshake>) null,
              connections,
              errors);
      Supplier<ContextInternal> streams = loop::duplicate;
      Object initializer =
          handles.initializer.newInstance(
              loop,
              loop.threadingModel(),
              streams,
              server,
              loop.owner(),
              options,
              origin,
              handlers,
              errors,
              metric);
      return (ChannelHandler) handles.build.invoke(initializer);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot make Vert.x's HTTP/2 handler", e);
    }
  }

  /**
   * Gives the HTTP/2 connection of {@code http2}, a handler {@link #http2Handler} made and that is
   * in its pipeline now, its exception handler before the client's first SETTINGS arrive.
   */
  static void earlyErrors(ChannelHandler http2, Handler<Throwable> errors) {
    try {
      ((HttpConnection) Http2Reflection.get().connection.get(http2)).exceptionHandler(errors);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException("cannot reach Vert.x's HTTP/2 connection", e);
    }
  }

  /** Opens stream 1 of an h2c upgrade on {@code http2}, a handler {@link #http2Handler} made. */
  static void serverUpgrade(
      ChannelHandler http2, ChannelHandlerContext ctx, Http2Settings settings) {
    try {
      Http2Reflection.get().serverUpgrade.invoke(http2, ctx, settings);
    } catch (InvocationTargetException e) {
      throw new IllegalStateException("h2c upgrade failed: " + e.getCause(), e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot upgrade to HTTP/2", e);
    }
  }

  /**
   * Handles the signal {@code name} ({@code "TERM"}) with {@code handler}.
   *
   * @return whether the process inherited the signal as ignored; the JVM then leaves it so
   */
  public static boolean handleSignal(String name, Runnable handler) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
      Method handle = signal.getMethod("handle", signal, handlerType);
      Object ignore = handlerType.getField("SIG_IGN").get(null);
      Object proxy =
          Proxy.newProxyInstance(
              Internals.class.getClassLoader(),
              new Class<?>[] {handlerType},
              (self, method, args) ->
                  switch (method.getName()) {
                    case "handle" -> {
                      handler.run();
                      yield null;
                    }
                    // Object's methods, should anything print or hash the handler.
                    case "hashCode" -> System.identityHashCode(self);
                    case "equals" -> self == args[0];
                    default -> "handler of SIG" + name;
                  });
      // The JVM answers SIG_IGN as the old handler of an inherited SIG_IGN, and keeps it.
      return handle.invoke(null, signal.getConstructor(String.class).newInstance(name), proxy)
          == ignore;
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot handle SIG" + name + ": " + e, e);
    }
  }

  /** The reflective handles of Vert.x's HTTP/2 handler factory, resolved once. */
  private record Http2Reflection(
      Constructor<?> handlers,
      Constructor<?> initializer,
      Method build,
      Method serverUpgrade,
      Field connection) {

    private static final String IMPL = "io.vertx.core.http.impl.";
    private static volatile Http2Reflection resolved;

    static Http2Reflection get() {
      Http2Reflection handles = resolved;
      if (handles == null) {
        try {
          handles = resolve();
        } catch (ReflectiveOperationException e) {
          throw new IllegalStateException("its HTTP/2 handler is built differently: " + e, e);
        }
        resolved = handles;
      }
      return handles;
    }

    private static Http2Reflection resolve() throws ReflectiveOperationException {
      Class<?> server = Class.forName(IMPL + "HttpServerImpl");
      Class<?> initializer = Class.forName(IMPL + "HttpServerConnectionInitializer");
      Constructor<?> handlers =
          Class.forName(IMPL + "HttpServerConnectionHandler")
              .getDeclaredConstructor(
                  server,
                  Handler.class,
                  Handler.class,
                  Handler.class,
                  Handler.class,
                  Handler.class,
                  Handler.class);
      Constructor<?> init =
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
      Method build = initializer.getDeclaredMethod("buildHttp2ConnectionHandler");
      Class<?> http2Handler = Class.forName(IMPL + "VertxHttp2ConnectionHandler");
      if (!Http2Connection.Listener.class.isAssignableFrom(http2Handler)) {
        throw new NoSuchMethodException(http2Handler + " is not its connection's listener");
      }
      Method upgrade =
          http2Handler.getDeclaredMethod(
              "serverUpgrade", ChannelHandlerContext.class, Http2Settings.class);
      Field connection = http2Handler.getDeclaredField("connection");
      handlers.setAccessible(true);
      init.setAccessible(true);
      build.setAccessible(true);
      upgrade.setAccessible(true);
      connection.setAccessible(true);
      return new Http2Reflection(handlers, init, build, upgrade, connection);
    }
  }
}
