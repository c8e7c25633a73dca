package com.example.service.lifecycle.internal;

import com.example.service.lifecycle.HttpLimits;
import com.example.service.lifecycle.Responses;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;

/**
 * {@code HTTP_MAX_BODY_BYTES} over HTTP/2, as {@link Http1Decoder} keeps it over HTTP/1.1: a
 * request whose {@code content-length} declares a body over the limit is answered 413 before any
 * route runs. Once that answer is written, its stream is reset with NO_ERROR, which asks the client
 * to stop sending the body (RFC 9113 §8.1); the connection and its other streams go on. GET and
 * HEAD are not looked at: a body means nothing on them (RFC 9110 §9.3.1), and the lookup would cost
 * every such request. Runs ahead of the routes on the connection's loop.
 */
final class Http2BodyLimit implements Handler<HttpServerRequest> {

  private static final long NO_ERROR = 0;

  private final HttpLimits limits;
  private final ClientErrors errors;
  private final Handler<HttpServerRequest> routes;

  Http2BodyLimit(HttpLimits limits, ClientErrors errors, Handler<HttpServerRequest> routes) {
    this.limits = limits;
    this.errors = errors;
    this.routes = routes;
  }

  @Override
  public void handle(HttpServerRequest request) {
    if (request.version() == HttpVersion.HTTP_2
        && request.method() != HttpMethod.GET
        && request.method() != HttpMethod.HEAD
        && limits.declaresTooLarge(request.getHeader(HttpHeaders.CONTENT_LENGTH))) {
      refuse(request);
    } else {
      routes.handle(request);
    }
  }

  private void refuse(HttpServerRequest request) {
    String reason = limits.bodyTooLarge();
    errors.refused("413 " + reason, request);
    HttpServerResponse response = request.response();
    // Vert.x sends no reset if the client had sent its whole body: the answer closed the stream.
    Responses.error(response, 413, reason).onSuccess(written -> response.reset(NO_ERROR));
  }
}
