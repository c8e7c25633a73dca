package com.example.service.lifecycle.internal;

import com.example.service.lifecycle.Responses;
import com.example.service.lifecycle.internal.TrackedConnection.State;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import java.util.List;

/**
 * What the drain's deadline does to a connection still open: a request whose response has not
 * started is answered 503 (with {@code Retry-After}) and its connection closed after it; a response
 * already on its way cannot become a 503, so its HTTP/1 connection is cut (its guard counts what it
 * loses: a client that does not read would never get a 503 either) and its HTTP/2 stream reset. An
 * HTTP/2 stream whose whole response is written, its client still sending, lost nothing: {@link
 * LoopConnections#abort} counts it drained before, and it closes with its connection.
 */
final class DeadlineAbort {

  /** RST_STREAM's error code for a stream the server gives up on (RFC 9113 §7). */
  private static final long CANCEL = 0x8;

  private DeadlineAbort() {}

  static void abort(TrackedConnection conn, ConnectionStates states, HttpDrain shared) {
    if (conn.http2) {
      abortStreams(conn, states, shared);
      return;
    }
    if (conn.state == State.SWITCHING) {
      return; // no request yet; closed with the server, or with its HTTP/2 connection's streams
    }
    boolean cut = conn.guard.outputPending();
    for (Exchange exchange : conn.exchanges) {
      exchange.aborted = true;
      cut |= exchange.response.headWritten();
    }
    if (cut) {
      states.set(conn, State.CLOSING);
      shared.countClosedByDrain();
      conn.guard.cut();
      return;
    }
    for (Exchange exchange : List.copyOf(conn.exchanges)) {
      shared.countAborted(1);
      exchange.markClose();
      answer503(exchange.response);
    }
    if (conn.state == State.IDLE) {
      states.close(conn, false);
    }
  }

  /** Each stream gets its 503 or its reset; the connection closes once they are out. */
  private static void abortStreams(
      TrackedConnection conn, ConnectionStates states, HttpDrain shared) {
    for (Exchange exchange : List.copyOf(conn.exchanges)) {
      exchange.aborted = true;
      shared.countAborted(1);
      HttpServerResponse response = exchange.response;
      if (response.headWritten()) {
        response.reset(CANCEL);
      } else {
        answer503(response);
      }
    }
    states.close(conn, false);
  }

  private static void answer503(HttpServerResponse response) {
    response.putHeader(HttpHeaders.RETRY_AFTER, "1");
    Responses.error(response, 503, "service is shutting down");
  }
}
