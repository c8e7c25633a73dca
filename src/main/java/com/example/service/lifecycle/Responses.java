package com.example.service.lifecycle;

import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

/** The one place error responses are written: {@code {"error": "..."}} with a status. */
public final class Responses {

  private Responses() {}

  /**
   * Ends {@code response} with {@code status} and a short JSON message, unless it has already ended
   * or its connection is gone (shutdown may have answered it first).
   */
  public static void error(HttpServerResponse response, int status, String message) {
    if (response.ended() || response.closed()) {
      return;
    }
    response
        .setStatusCode(status)
        .putHeader("content-type", "application/json")
        .end(new JsonObject().put("error", message).encode());
  }
}
