package com.example.service.lifecycle.internal;

import com.example.service.lifecycle.LongLived;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/** One request a loop tracks, settled when its response ends or its connection closes. */
final class Exchange {
  final HttpServerRequest request;
  final HttpServerResponse response;
  final TrackedConnection conn;

  /** HTTP/2: the request's stream. */
  final int streamId;

  /** Made only when a drain waits on it: the hot path allocates no promise. */
  private Promise<Void> done;

  boolean aborted;

  /** Waiting for the listening socket to close before it runs. */
  boolean held;

  /** A long-lived stream's goodbye at the start of the drain; see {@link LongLived}. */
  Runnable goingAway;

  /** {@link #goingAway} has run: however the stream then ends, it was drained. */
  boolean toldToGo;

  /**
   * HTTP/2: its response's last frame was written while its client still sent: a reset after that
   * (the 413's, the body timeout's) loses nothing of the response.
   */
  boolean responseWritten;

  Exchange(HttpServerRequest request, TrackedConnection conn) {
    this.request = request;
    this.response = request.response();
    this.conn = conn;
    this.streamId = conn.http2 ? request.streamId() : -1;
  }

  /** Completes when the exchange is settled. */
  Future<Void> done() {
    if (done == null) {
      done = Promise.promise();
    }
    return done.future();
  }

  /** Settles it: a drain waiting on it goes on. */
  void settled() {
    if (done != null) {
      done.complete();
    }
  }

  /**
   * Adds {@code Connection: close} to an HTTP/1 response whose head is not on the wire yet. HTTP/2
   * forbids the header; its connection's GOAWAY says the same.
   */
  void markClose() {
    if (!conn.http2 && !response.headWritten()) {
      response.putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
    }
  }

  /** Tells a long-lived stream to go away, once. */
  void goAway() {
    if (goingAway != null && !toldToGo) {
      toldToGo = true;
      goingAway.run();
    }
  }
}
