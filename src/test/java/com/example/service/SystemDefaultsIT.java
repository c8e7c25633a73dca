package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.example.service.lifecycle.SystemDefaults;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@link SystemDefaults} sets, seen through the class loading of a service started from the
 * fat jar and the test classes ({@link TestMain}, through {@link Main}).
 */
class SystemDefaultsIT {

  @TempDir Path dir;

  @Test
  void nettyRegistersNoFlightRecorderEventsUnlessTheCommandLineAsks() throws Exception {
    assertThat(loadsFlightRecorderMetadata("default", List.of()))
        .as("JFR metadata loaded by the first request, by default")
        .isFalse();
    assertThat(
            loadsFlightRecorderMetadata(
                "asked", List.of("-D" + SystemDefaults.NETTY_JFR + "=true")))
        .as("JFR metadata loaded by the first request, with -D%s=true", SystemDefaults.NETTY_JFR)
        .isTrue();
  }

  /**
   * Starts the service with {@code flags}, serves one request, stops it: was JFR's metadata loaded?
   */
  private boolean loadsFlightRecorderMetadata(String name, List<String> flags) throws Exception {
    Path classes = dir.resolve(name + "-classes.txt");
    List<String> args = new ArrayList<>(flags);
    args.add("-Xlog:class+load=info:file=" + classes.toAbsolutePath());
    try (ServiceProcess service = ServiceProcess.start(dir, Map.of(), args);
        RawHttp conn = new RawHttp("127.0.0.1", service.port(), 10_000)) {
      assertThat(conn.get("/hello").status()).isEqualTo(200);
      service.signal("TERM");
      assertThat(service.awaitExit(Duration.ofSeconds(30))).isZero();
    }
    return Files.readString(classes).contains(" jdk.jfr.internal.MetadataLoader ");
  }
}
