package com.example.service.lifecycle.internal;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.List;
import java.util.function.Supplier;

/**
 * Turns an accepted connection whose client opened with the HTTP/2 preface, or (when enabled) asked
 * for {@code Upgrade: h2c} on a request, into one of Vert.x's own HTTP/2 server connections,
 * serving the same routes.
 *
 * <p>Why not Vert.x's own h2c detection ({@code setHttp2ClearTextEnabled}): it makes the HTTP/1
 * connection only once the first request head has been decoded, by Vert.x's own decoder, so a first
 * request would escape every limit the {@link ConnectionGuard} keeps, and a connection that sends
 * nothing would not be tracked by the drain. So the server stays HTTP/1 at accept, the guard's
 * handlers see every byte from the first, and on the preface they hand the pipeline to this.
 *
 * <p>Vert.x 5.0 makes its HTTP/2 handler only in package-private code, reached through {@link
 * Internals}.
 */
final class Http2Switch {

  private final HttpServer server;
  private final Context context;
  private final HttpServerOptions options;
  private final Handler<HttpServerRequest> invalidRequests;
  private final Handler<Throwable> errors;
  private final boolean upgrades;
  private final Supplier<Http2Timeouts> timeouts;

  /**
   * @param server the HTTP/1 server whose routes ({@code requestHandler}) HTTP/2 streams reach
   * @param context the server's event loop
   * @param invalidRequests for a stream Vert.x cannot parse
   * @param errors for a connection's failures (a client's protocol error, say)
   * @param upgrades whether {@link #upgrade} takes {@code Upgrade: h2c} requests
   * @param timeouts makes each HTTP/2 connection's time limits
   */
  Http2Switch(
      HttpServer server,
      Context context,
      HttpServerOptions options,
      Handler<HttpServerRequest> invalidRequests,
      Handler<Throwable> errors,
      boolean upgrades,
      Supplier<Http2Timeouts> timeouts) {
    this.server = server;
    this.context = context;
    this.options = options;
    this.invalidRequests = invalidRequests;
    this.errors = errors;
    this.upgrades = upgrades;
    this.timeouts = timeouts;
  }

  /**
   * An HTTP/1.1 request asking to continue in HTTP/2 ({@code Upgrade: h2c}, RFC 7540 §3.2): its
   * settings, and the request itself as the HEADERS of stream 1.
   */
  record Upgrade(Http2Settings settings, Http2HeadersFrame request) {}

  /**
   * The upgrade {@code request} asks for, or null to serve it in HTTP/1.1 as if it asked for none
   * (RFC 9110 §7.8 lets a server ignore {@code Upgrade}): when upgrades are off, when it does not
   * name {@code h2c} in both {@code Upgrade} and {@code Connection}, has not exactly one valid
   * {@code HTTP2-Settings}, or has a body (switching after a body is a complication no client
   * needs: RFC 9113 deprecates this upgrade, and every HTTP/2 client also speaks HTTP/1.1).
   */
  Upgrade upgrade(HttpRequest request) {
    HttpHeaders headers = request.headers();
    // Every request head passes here: the common case returns before anything is allocated.
    if (!upgrades
        || !headers.containsValue(
            HttpHeaderNames.UPGRADE, Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, true)) {
      return null;
    }
    List<String> settings = headers.getAll(Http2CodecUtil.HTTP_UPGRADE_SETTINGS_HEADER);
    if (!headers.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
        || !headers.containsValue(
            HttpHeaderNames.CONNECTION, Http2CodecUtil.HTTP_UPGRADE_SETTINGS_HEADER, true)
        || settings.size() != 1
        || headers.contains(HttpHeaderNames.TRANSFER_ENCODING)
        || !"0".equals(headers.get(HttpHeaderNames.CONTENT_LENGTH, "0").trim())) {
      return null;
    }
    Http2Settings decoded = decodeSettings(settings.get(0));
    if (decoded == null) {
      return null;
    }
    Http2Headers stream =
        new DefaultHttp2Headers()
            .method(request.method().name())
            .path(request.uri())
            .scheme("http")
            .authority(headers.get(HttpHeaderNames.HOST, ""));
    // Drops Connection, Upgrade, HTTP2-Settings, Host and the other HTTP/1-only fields.
    HttpConversionUtil.toHttp2Headers(headers, stream);
    return new Upgrade(decoded, new DefaultHttp2HeadersFrame(stream, true));
  }

  /** The base64url payload of a SETTINGS frame (RFC 7540 §3.2.1), or null if it is not one. */
  private static Http2Settings decodeSettings(String base64) {
    byte[] payload;
    try {
      payload = Base64.getUrlDecoder().decode(base64.trim());
    } catch (IllegalArgumentException e) {
      return null;
    }
    if (payload.length % 6 != 0) {
      return null;
    }
    Http2Settings settings = new Http2Settings();
    ByteBuffer entries = ByteBuffer.wrap(payload);
    try {
      while (entries.hasRemaining()) {
        char id = entries.getChar();
        long value = Integer.toUnsignedLong(entries.getInt());
        settings.put(id, Long.valueOf(value));
      }
    } catch (IllegalArgumentException outOfRange) {
      return null;
    }
    return settings;
  }

  /**
   * The context of an HTTP/2 connection's Netty handler, Vert.x's {@code Http2ConnectionHandler}.
   */
  static ChannelHandlerContext codec(HttpConnection http2) {
    return Internals.pipeline(http2);
  }

  /** The time limits {@link #switchPipeline} installed on an HTTP/2 connection. */
  static Http2Timeouts timeouts(HttpConnection http2) {
    return Http2Timeouts.of(codec(http2).channel());
  }

  /**
   * Replaces the HTTP/1 handlers after the decoder with Vert.x's HTTP/2 connection handler; the
   * guard then removes the decoder and its sniffer, which passes the preface on (or, for an
   * upgrade, the decoder removes itself). {@code connections} is told of the new connection once
   * the client's SETTINGS have arrived, or at once for an upgrade.
   *
   * @param http1 the connection Vert.x made at accept; its TCP metric is carried over
   * @param upgrade the upgrade request, whose 101 response is written already; null when the client
   *     opened with the preface
   * @return completes when the connection closes
   */
  ChannelFuture switchPipeline(
      HttpConnection http1, Upgrade upgrade, Handler<HttpConnection> connections) {
    ChannelPipeline pipeline = Internals.pipeline(http1).pipeline();
    ChannelHandler http2 =
        Internals.http2Handler(
            server, context, options, invalidRequests, errors, http1, connections);
    // The HTTP/1 handlers the preface or upgrade left: Vert.x's own h2c detection never adds them,
    // and each would see every frame's bytes pass.
    for (String name :
        new String[] {Internals.ENCODER, Internals.WEB_SOCKET_EXTENSIONS, ResponseWatch.NAME}) {
      if (pipeline.get(name) != null) {
        pipeline.remove(name);
      }
    }
    pipeline.replace(Internals.HANDLER, Internals.HANDLER, http2);
    Internals.earlyErrors(http2, errors);
    // Before the upgrade's stream 1 exists, so that it counts as open.
    timeouts.get().install(pipeline.context(http2));
    if (upgrade != null) {
      // Stream 1 is the upgrade request, half-closed by the client; its HEADERS follow.
      Internals.serverUpgrade(http2, pipeline.context(http2), upgrade.settings());
    }
    return pipeline.channel().closeFuture();
  }
}
