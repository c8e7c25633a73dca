package com.example.service.lifecycle.internal;

import com.example.service.lifecycle.Logging;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The pre-stop delay: the service keeps serving, readiness failing, so that load balancers take it
 * out before its listener closes. It lasts {@code longest}, or, with a quiet period, ends as soon
 * as the quiet period has passed both since the signal and since the last request that was not a
 * probe or a scrape: the balancers have stopped sending. The one place that decides when the delay
 * ends.
 *
 * <p>It wakes only when the delay could end: at the end of the quiet period counted from the last
 * request it knows of, or at the longest. Traffic comes from each event loop's own lock-free
 * timestamp ({@link HttpDrain#lastTrafficNanos}).
 */
public final class PreStopDelay {

  private static final Logger LOG = Logger.getLogger("lifecycle");

  /**
   * How the delay ended.
   *
   * @param afterMs how long it lasted, from the signal
   * @param quiet whether the quiet period ended it; else it lasted its longest
   * @param sinceTrafficMs how long before its end the last request that counts arrived (or the
   *     delay began)
   */
  public record Ended(long afterMs, boolean quiet, long sinceTrafficMs) {}

  private final Vertx vertx;
  private final LongSupplier lastTrafficNanos;
  private final long longestNanos;
  private final long quietNanos;
  private final long startNanos = System.nanoTime();
  private final Promise<Ended> ended = Promise.promise();

  private PreStopDelay(
      Vertx vertx, LongSupplier lastTrafficNanos, Duration longest, Duration quiet) {
    this.vertx = vertx;
    this.lastTrafficNanos = lastTrafficNanos;
    this.longestNanos = longest.toNanos();
    this.quietNanos = quiet.toNanos();
  }

  /**
   * Starts the delay now.
   *
   * @param lastTrafficNanos when the last request that counts arrived ({@link System#nanoTime})
   * @param quiet zero for a delay that always lasts {@code longest}
   * @param onEnd told how the delay ended, before its line is logged
   * @return completes when the delay ends; never fails
   */
  public static Future<Ended> start(
      Vertx vertx,
      LongSupplier lastTrafficNanos,
      Duration longest,
      Duration quiet,
      Consumer<Ended> onEnd) {
    long longestMs = longest.toMillis();
    long quietMs = quiet.toMillis();
    LOG.info(
        quietMs == 0
            ? "serving for " + longestMs + " ms more so load balancers see readiness fail"
            : "serving for at most "
                + longestMs
                + " ms more so load balancers see readiness fail; less once no request but"
                + " probes and scrapes has come for "
                + quietMs
                + " ms");
    PreStopDelay delay = new PreStopDelay(vertx, lastTrafficNanos, longest, quiet);
    delay.check();
    return delay.ended.future().onSuccess(onEnd::accept).onSuccess(ended -> log(ended, quietMs));
  }

  private static void log(Ended ended, long quietMs) {
    Logging.log(
        LOG,
        Level.INFO,
        "pre-stop delay ended after "
            + ended.afterMs()
            + " ms: "
            + (ended.quiet()
                ? "traffic quiet for " + ended.sinceTrafficMs() + " ms"
                : "delay elapsed"
                    + (quietMs == 0
                        ? ""
                        : " (last request " + ended.sinceTrafficMs() + " ms before)")),
        Map.of(
            "elapsed_ms", ended.afterMs(),
            "quiet", ended.quiet(),
            "since_traffic_ms", ended.sinceTrafficMs()));
  }

  private void check() {
    long now = System.nanoTime();
    long elapsed = now - startNanos;
    long last = lastTrafficNanos.getAsLong();
    if (last - startNanos < 0) {
      last = startNanos;
    }
    long sinceTraffic = now - last;
    if (elapsed >= longestNanos) {
      end(elapsed, false, sinceTraffic);
      return;
    }
    if (quietNanos > 0 && elapsed >= quietNanos && sinceTraffic >= quietNanos) {
      end(elapsed, true, sinceTraffic);
      return;
    }
    long wake = longestNanos - elapsed;
    if (quietNanos > 0) {
      wake = Math.min(wake, Math.max(quietNanos - elapsed, quietNanos - sinceTraffic));
    }
    vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(wake) + 1), id -> check());
  }

  private void end(long elapsedNanos, boolean quiet, long sinceTrafficNanos) {
    ended.complete(
        new Ended(
            TimeUnit.NANOSECONDS.toMillis(elapsedNanos),
            quiet,
            TimeUnit.NANOSECONDS.toMillis(sinceTrafficNanos)));
  }
}
