package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image's training run ({@code deploy/train.sh}, which the Dockerfile runs) against the fat
 * jar, as the image's build runs it: it trains on what every application serves, and it fails when
 * a training request is not answered 2xx, so an archive is never trained on errors.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class TrainingRunIT {

  @TempDir Path dir;

  private record Run(int status, String output) {}

  private static Run train(String trainingPaths, String... javaOptions) throws Exception {
    List<String> command =
        new ArrayList<>(List.of("bash", "deploy/train.sh", ServiceProcess.jar()));
    command.addAll(List.of(javaOptions));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    // The JDK running this test, not whichever java comes first on the PATH.
    Path javaBin = Path.of(ProcessHandle.current().info().command().orElseThrow()).getParent();
    pb.environment().put("PATH", javaBin + ":" + System.getenv("PATH"));
    pb.environment().remove("CONFIG_PATH");
    if (trainingPaths != null) {
      pb.environment().put("TRAINING_PATHS", trainingPaths);
    }
    Process process = pb.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("the training run ended").isTrue();
    System.out.println(output);
    return new Run(process.exitValue(), output);
  }

  @Test
  void itTrainsOnReadinessLivenessAndMetricsAndWritesTheArchive() throws Exception {
    Path archive = dir.resolve("service.jsa");

    Run run = train(null, "-XX:ArchiveClassesAtExit=" + archive, "-Xlog:cds=off");

    assertThat(run.status()).as(run.output()).isZero();
    assertThat(run.output())
        .contains("GET /health/live 200")
        .contains("GET /health/ready 200")
        .contains("GET /metrics 200")
        .contains("done, exit 0");
    assertThat(Files.size(archive)).as("the archive").isPositive();
  }

  @Test
  void aTrainingRequestNotAnswered2xxFailsTheRun() throws Exception {
    Run run = train("/health/live /no-such-route");

    assertThat(run.status()).isNotZero();
    assertThat(run.output())
        .contains("GET /health/live 200")
        .contains("training run: GET /no-such-route answered 404, not 2xx")
        .doesNotContain("done, exit 0");
  }
}
