package com.example.service.lifecycle.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DeploymentsTest {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  @Test
  void aDeploymentThatStartsOnceTheStopHasBegunIsStoppedAsItStarts() throws Exception {
    Promise<Void> started = Promise.promise();
    CompletableFuture<Void> stopped = new CompletableFuture<>();
    Deployments deployments = new Deployments(vertx);
    Future<Void> deployed =
        deployments.deploy(
            "late",
            () ->
                vertx.deployVerticle(
                    new VerticleBase() {
                      @Override
                      public Future<?> start() {
                        return started.future();
                      }

                      @Override
                      public Future<?> stop() {
                        stopped.complete(null);
                        return Future.succeededFuture();
                      }
                    }));

    // Given up on while it starts (a shutdown during start-up): nothing had started to stop.
    assertThat(deployments.stopAll(Deadline.in(Duration.ofSeconds(10))).await()).isTrue();
    started.complete();
    deployed.await();

    // Stopped as soon as it started, not left running until Vert.x closes.
    stopped.get(10, TimeUnit.SECONDS);
  }
}
