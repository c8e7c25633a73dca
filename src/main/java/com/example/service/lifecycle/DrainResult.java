package com.example.service.lifecycle;

/**
 * What a drain did, summed over every event loop.
 *
 * @param drained requests answered after shutdown began
 * @param aborted requests answered 503 or cut off at the deadline
 */
public record DrainResult(long drained, long aborted) {

  /** {@code "1 request drained, 0 aborted"}, as the log's lines say it. */
  public String summary() {
    return drained
        + (drained == 1 ? " request" : " requests")
        + " drained, "
        + aborted
        + " aborted";
  }
}
