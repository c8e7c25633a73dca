package com.example.service.lifecycle.internal;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;

/**
 * Cuts a connection whose client takes no response bytes for the write timeout. While the channel
 * is unwritable it checks, four times per timeout, whether the bytes Netty has queued fell: Vert.x
 * queues further writes itself while the channel is unwritable, so those bytes fall only when the
 * client reads.
 */
final class WriteStallWatch {

  private final Channel channel;
  private final long writeNanos;
  private final Runnable onStall;
  private ScheduledFuture<?> check;
  private long progressAt;
  private long pending;

  /**
   * @param onStall the timeout passed with no progress
   */
  WriteStallWatch(Channel channel, long writeNanos, Runnable onStall) {
    this.channel = channel;
    this.writeNanos = writeNanos;
    this.onStall = onStall;
  }

  /** The channel has turned unwritable: starts watching, unless it is already. */
  void unwritable() {
    if (check != null) {
      return;
    }
    progressAt = now();
    pending = Internals.pendingBytes(channel);
    check = channel.eventLoop().schedule(this::check, writeNanos / 4, NANOSECONDS);
  }

  /** Stops watching: the connection is closed or handed on. */
  void stop() {
    if (check != null) {
      check.cancel(false);
      check = null;
    }
  }

  private void check() {
    check = null;
    if (channel.isWritable()) {
      return;
    }
    long now = now();
    long left = Internals.pendingBytes(channel);
    if (left < pending) {
      pending = left;
      progressAt = now;
    }
    if (now - progressAt >= writeNanos) {
      onStall.run();
      return;
    }
    check = channel.eventLoop().schedule(this::check, writeNanos / 4, NANOSECONDS);
  }

  private long now() {
    return channel.eventLoop().ticker().nanoTime();
  }
}
