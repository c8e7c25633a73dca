package com.example.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.example.service.lifecycle.Config;
import com.example.service.lifecycle.HttpLimits;
import com.example.service.lifecycle.LifecycleOptions;
import com.example.service.lifecycle.Metrics;
import com.example.service.lifecycle.Service;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * deploy/k8s, offline: every manifest parses into the Kubernetes API model with no field the model
 * does not know (a misspelled one fails), and the numbers that must move together do.
 */
class KubernetesManifestsTest {

  private static final Path K8S = Path.of("deploy", "k8s");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** The kinds deploy/k8s may hold, as the model classes to parse them into. */
  private static final Map<String, Class<? extends HasMetadata>> KINDS =
      Map.of(
          "apps/v1/Deployment", Deployment.class,
          "v1/Service", io.fabric8.kubernetes.api.model.Service.class,
          "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class);

  private static List<HasMetadata> manifests() throws Exception {
    JsonNode kustomization = YAML.readTree(K8S.resolve("kustomization.yaml").toFile());
    assertThat(kustomization.path("kind").asText()).isEqualTo("Kustomization");
    List<HasMetadata> all = new ArrayList<>();
    for (JsonNode resource : kustomization.path("resources")) {
      Path file = K8S.resolve(resource.asText());
      JsonNode tree = YAML.readTree(file.toFile());
      String kind = tree.path("apiVersion").asText() + "/" + tree.path("kind").asText();
      assertThat(KINDS).as(file + ": a kind this test knows").containsKey(kind);
      HasMetadata parsed = YAML.treeToValue(tree, KINDS.get(kind));
      List<String> unknown = new ArrayList<>();
      unknownFields(
          parsed, file.toString(), unknown, Collections.newSetFromMap(new IdentityHashMap<>()));
      assertThat(unknown).as(file + ": fields the Kubernetes API does not have").isEmpty();
      all.add(parsed);
    }
    assertThat(all).as("manifests").isNotEmpty();
    return all;
  }

  /**
   * The model keeps a field it does not know in {@code additionalProperties} instead of failing:
   * any found anywhere in the object is a misspelling or a field of another API version.
   */
  private static void unknownFields(
      Object node, String path, List<String> unknown, Set<Object> seen) throws Exception {
    if (node == null || !seen.add(node)) {
      return;
    }
    if (node instanceof Collection<?> items) {
      int i = 0;
      for (Object item : items) {
        unknownFields(item, path + "[" + i++ + "]", unknown, seen);
      }
      return;
    }
    if (node instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        unknownFields(e.getValue(), path + "." + e.getKey(), unknown, seen);
      }
      return;
    }
    if (!node.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
      return;
    }
    for (Method getter : node.getClass().getMethods()) {
      if (getter.getParameterCount() != 0
          || Modifier.isStatic(getter.getModifiers())
          || !getter.getName().startsWith("get")
          || getter.getName().equals("getClass")) {
        continue;
      }
      Object value = getter.invoke(node);
      if (getter.getName().equals("getAdditionalProperties")) {
        if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
          unknown.add(path + ": " + extra.keySet());
        }
        continue;
      }
      unknownFields(value, path + "." + getter.getName().substring(3), unknown, seen);
    }
  }

  private static <T> T only(List<HasMetadata> all, Class<T> kind) {
    List<T> found = all.stream().filter(kind::isInstance).map(kind::cast).toList();
    assertThat(found).as(kind.getSimpleName()).hasSize(1);
    return found.get(0);
  }

  /** The Deployment's one container. */
  private static Container container() throws Exception {
    return only(manifests(), Deployment.class)
        .getSpec()
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0);
  }

  private static String dockerfile() throws Exception {
    return Files.readString(Path.of("Dockerfile"));
  }

  private static String env(Container c, String name) {
    return c.getEnv().stream()
        .filter(e -> e.getName().equals(name))
        .map(EnvVar::getValue)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + name + " in the container's env"));
  }

  @Test
  void everyManifestParsesIntoTheApiModelWithNoUnknownField() throws Exception {
    assertThat(manifests()).hasSize(3);
  }

  @Test
  void theShutdownNumbersFitTogether() throws Exception {
    List<HasMetadata> all = manifests();
    Deployment deployment = only(all, Deployment.class);
    PodSpec pod = deployment.getSpec().getTemplate().getSpec();
    Container c = pod.getContainers().get(0);
    long delayMs = Long.parseLong(env(c, "SHUTDOWN_DELAY_MS"));
    long timeoutMs = Long.parseLong(env(c, "SHUTDOWN_TIMEOUT_MS"));
    // The service exits within delay + timeout + 500 ms (docs/shutdown.md, "One deadline").
    assertThat(pod.getTerminationGracePeriodSeconds() * 1000)
        .as("terminationGracePeriodSeconds covers delay + timeout + margin")
        .isGreaterThanOrEqualTo(delayMs + timeoutMs + 500);
    assertThat(delayMs)
        .as("time for endpoint removal to reach kube-proxy and ingress")
        .isPositive();
    long quietMs = Long.parseLong(env(c, "SHUTDOWN_QUIET_MS"));
    assertThat(quietMs)
        .as("the quiet period: at least a second of propagation, at most the delay")
        .isBetween(1000L, delayMs);
    assertThat(c.getLifecycle()).as("no preStop: the service delays by itself").isNull();
  }

  @Test
  void theDatabaseAndItsCredentialsComeFromASecret() throws Exception {
    Deployment deployment = only(manifests(), Deployment.class);
    Container c = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    String secret = deployment.getMetadata().getName() + "-database";
    Map<String, String> keys =
        Map.of("DATABASE_URL", "url", "DATABASE_USER", "user", "DATABASE_PASSWORD", "password");
    for (Map.Entry<String, String> key : keys.entrySet()) {
      EnvVar var =
          c.getEnv().stream()
              .filter(e -> e.getName().equals(key.getKey()))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no " + key.getKey() + " in the env"));
      assertThat(var.getValue()).as(key.getKey() + " is not written in the manifest").isNull();
      assertThat(var.getValueFrom().getSecretKeyRef().getName()).isEqualTo(secret);
      assertThat(var.getValueFrom().getSecretKeyRef().getKey()).isEqualTo(key.getValue());
    }
  }

  @Test
  void connectionsAgeOutSoThatTheServiceRebalancesThem() throws Exception {
    Container c = container();
    long ageMs = Long.parseLong(env(c, "HTTP_MAX_CONNECTION_AGE_MS"));
    // The Service balances connections: without an age a new pod gets no long-lived connection.
    // Long against a handshake's cost, and longer than the idle timeout, which closes idle ones.
    assertThat(ageMs)
        .isBetween(HttpLimits.HTTP_IDLE_TIMEOUT_MS.fallback().get().toMillis(), 3_600_000L);
  }

  @Test
  void theDeploymentRollsAndDisruptsOneReplicaAtATime() throws Exception {
    List<HasMetadata> all = manifests();
    Deployment deployment = only(all, Deployment.class);
    assertThat(deployment.getSpec().getReplicas()).isEqualTo(3);
    assertThat(
            deployment.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable().getIntVal())
        .isZero();
    Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
    assertThat(podLabels).containsAllEntriesOf(deployment.getSpec().getSelector().getMatchLabels());
    PodDisruptionBudget pdb = only(all, PodDisruptionBudget.class);
    assertThat(podLabels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
    io.fabric8.kubernetes.api.model.Service service =
        only(all, io.fabric8.kubernetes.api.model.Service.class);
    assertThat(podLabels).containsAllEntriesOf(service.getSpec().getSelector());
  }

  @Test
  void portsProbesAndScrapeAnnotationsPointAtWhatTheServiceServes() throws Exception {
    List<HasMetadata> all = manifests();
    PodTemplateSpec template = only(all, Deployment.class).getSpec().getTemplate();
    Container c = template.getSpec().getContainers().get(0);
    Map<String, Integer> ports = new java.util.HashMap<>();
    c.getPorts().forEach(p -> ports.put(p.getName(), p.getContainerPort()));
    assertThat(ports).containsKeys("http", "management");
    assertThat(Integer.parseInt(env(c, "MANAGEMENT_PORT"))).isEqualTo(ports.get("management"));
    io.fabric8.kubernetes.api.model.Service service =
        only(all, io.fabric8.kubernetes.api.model.Service.class);
    service
        .getSpec()
        .getPorts()
        .forEach(p -> assertThat(p.getTargetPort().getStrVal()).isEqualTo("http"));
    Map<String, String> annotations = template.getMetadata().getAnnotations();
    assertThat(annotations).containsEntry("prometheus.io/scrape", "true");
    assertThat(Integer.parseInt(annotations.get("prometheus.io/port")))
        .as("the scrape on the management port")
        .isEqualTo(ports.get("management"));

    List<String> paths = new ArrayList<>();
    for (Probe probe : List.of(c.getStartupProbe(), c.getReadinessProbe(), c.getLivenessProbe())) {
      assertThat(probe).isNotNull();
      assertThat(probe.getHttpGet().getPort().getStrVal()).isEqualTo("management");
      paths.add(probe.getHttpGet().getPath());
    }
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/health/ready");
    paths.add(annotations.get("prometheus.io/path"));

    // Every path the manifests name answers 200 on a running service.
    Metrics metrics = Metrics.prometheus(false);
    Vertx vertx = metrics.vertx(new VertxOptions(), false);
    HttpClient http = HttpClient.newBuilder().executor(Executors.newSingleThreadExecutor()).build();
    try {
      JsonObject json =
          new JsonObject()
              .put("HTTP_HOST", "127.0.0.1")
              .put("HTTP_PORT", 0)
              .put("HTTP_INSTANCES", 1)
              .put("SHUTDOWN_DELAY_MS", 0)
              .put("SHUTDOWN_TIMEOUT_MS", 5000)
              .put("SHUTDOWN_IDLE_MS", 100)
              .put("MANAGEMENT_PORT", 0)
              .put("RECORD_PATH", Files.createTempFile("records", ".txt").toString());
      Service running =
          Service.start(
                  vertx,
                  new TestApplication(),
                  Config.from(json, LifecycleOptions.keysWith(new TestApplication())),
                  metrics,
                  Promise.<String>promise().future())
              .await();
      for (String path : paths) {
        assertThat(status(http, running.managementPort(), path)).as(path).isEqualTo(200);
        assertThat(status(http, running.httpPort(), path))
            .as(path + " on the service port")
            .isEqualTo(404);
      }
      running.shutdown("test").await();
    } finally {
      vertx.close().await();
      metrics.close();
    }
  }

  private static int status(HttpClient http, int port, String path) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  @Test
  void eventLoopsMatchTheCpuLimitAndTheContainerIsLockedDown() throws Exception {
    PodSpec pod = only(manifests(), Deployment.class).getSpec().getTemplate().getSpec();
    Container c = pod.getContainers().get(0);
    Quantity cpuLimit = c.getResources().getLimits().get("cpu");
    assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
    assertThat(Integer.parseInt(env(c, "HTTP_INSTANCES")))
        .as("HTTP_INSTANCES = the CPU limit")
        .isEqualTo(Quantity.getAmountInBytes(cpuLimit).intValue());

    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    // runAsNonRoot needs a numeric USER in the image to verify; it must be the one run as.
    Matcher user = Pattern.compile("(?m)^USER (\\d+)").matcher(dockerfile());
    assertThat(user.find()).as("a numeric USER in the Dockerfile").isTrue();
    assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(Long.parseLong(user.group(1)));

    // With a read-only root, data/ under the runtime image's working directory (its last
    // WORKDIR), the one directory the service may write (Dockerfile), is a volume.
    Matcher workdir = Pattern.compile("(?m)^WORKDIR (\\S+)").matcher(dockerfile());
    String runtimeWorkdir = null;
    while (workdir.find()) {
      runtimeWorkdir = workdir.group(1);
    }
    assertThat(runtimeWorkdir).as("a WORKDIR in the Dockerfile").isNotNull();
    assertThat(c.getVolumeMounts())
        .extracting(VolumeMount::getMountPath)
        .contains(runtimeWorkdir + "/data");
  }

  @Test
  void theMemoryLimitHoldsTheHeapTheImageAllowsAndTheRestOfTheJvm() throws Exception {
    Container c = container();
    Quantity limit = c.getResources().getLimits().get("memory");
    assertThat(limit).as("a memory limit").isNotNull();
    assertThat(c.getResources().getRequests().get("memory"))
        .as("the memory request equals the limit")
        .isEqualTo(limit);
    Matcher percentage = Pattern.compile("\"-XX:MaxRAMPercentage=(\\d+)\"").matcher(dockerfile());
    assertThat(percentage.find()).as("the heap's share in the Dockerfile's ENTRYPOINT").isTrue();
    long limitMiB = Quantity.getAmountInBytes(limit).longValue() >> 20;
    long heapMiB = limitMiB * Integer.parseInt(percentage.group(1)) / 100;
    // About 145 MiB besides the heap under load (docs/deploy.md), and some room above that.
    assertThat(limitMiB - heapMiB).as("MiB the limit leaves besides the heap").isGreaterThan(160);
  }
}
