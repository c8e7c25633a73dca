package com.example.service.example;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * Appends one JSON line per completed job to the journal file. Deploy it as a worker: it blocks on
 * file writes.
 *
 * <p>Each line is handed to the operating system before the job is acknowledged, so a job whose id
 * a client received is in the file even if the process is killed right after.
 */
public final class JournalVerticle extends VerticleBase {

  static final String ADDRESS = "example.journal";

  private final Path path;
  private FileChannel file;
  private MessageConsumer<JsonObject> consumer;

  public JournalVerticle(Path path) {
    this.path = path;
  }

  @Override
  public Future<?> start() {
    try {
      Path parent = path.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      file =
          FileChannel.open(
              path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    } catch (IOException | RuntimeException e) {
      return Future.failedFuture("cannot open JOURNAL_PATH=" + path + ": " + e);
    }
    consumer = vertx.eventBus().consumer(ADDRESS, this::append);
    return consumer.completion();
  }

  private void append(Message<JsonObject> job) {
    JsonObject line = job.body().copy().put("completedAt", Instant.now().toString());
    ByteBuffer bytes = ByteBuffer.wrap((line.encode() + "\n").getBytes(StandardCharsets.UTF_8));
    try {
      while (bytes.hasRemaining()) {
        file.write(bytes);
      }
      job.reply(null);
    } catch (IOException e) {
      job.fail(500, "journal write failed: " + e.getMessage());
    }
  }

  /** Stops taking jobs, then closes the file. */
  @Override
  public Future<?> stop() {
    return consumer
        .unregister()
        .compose(
            v -> {
              try {
                file.close();
                return Future.succeededFuture();
              } catch (IOException e) {
                return Future.failedFuture(e);
              }
            });
  }
}
