# syntax=docker/dockerfile:1

# ---- build: dependencies in their own layer, then the fat jar ----
FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY mvnw pom.xml ./
COPY .mvn .mvn
RUN ./mvnw -B -q dependency:go-offline
COPY src src
COPY conf conf
RUN ./mvnw -B -q package -DskipTests -Dspotless.check.skip=true

# ---- runtime: a JRE, a non-root user, the JVM as PID 1 ----
# The jar is built for 17 (above); it runs on 25, the current LTS, for its AOT cache (below).
FROM eclipse-temurin:25-jre
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# A numeric user, so that Kubernetes' runAsNonRoot can verify it (deploy/k8s). data/ is the one
# directory the service may write (the root filesystem is read-only on Kubernetes): a relative
# path in the configuration lands there; mount a volume on it to keep what the service writes.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app app \
    && mkdir -p /app/data && chown app:app /app/data
WORKDIR /app
COPY --from=build /src/target/service.jar service.jar
COPY conf conf
COPY deploy/train.sh /usr/local/bin/train
# The port the healthcheck below asks; the service's own default too.
ENV HTTP_PORT=8080

# The AOT cache (JEP 483/514/515): a training run (start, a GET of each training path, graceful
# SIGTERM) records the classes the service loads and links, and the methods' profiles, into a cache
# the JVM maps at start. It starts the jar in well under half the time, and sooner than JDK 17's
# class-data-sharing archive (docs/deploy.md). Every path must answer 2xx or the build fails; add
# GET paths of your own routes to train on them too.
# The training sees at most 1 GB, as a container under a memory limit does: 75% of a builder with
# more than about 43 GB would be a heap over 32 GB, without compressed object pointers, and the JVM
# rejects a cache trained so when it runs with them. The last step fails the build if the JVM
# would not use the cache.
ARG TRAINING_PATHS="/health/live /health/ready /metrics"
RUN TRAINING_PATHS="$TRAINING_PATHS" train /app/service.jar -XX:MaxRAM=1g \
        -XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError -XX:AOTCacheOutput=/app/service.aot \
    && java -XX:MaxRAM=1g -XX:MaxRAMPercentage=75 -XX:AOTCache=/app/service.aot -XX:AOTMode=on \
        -cp /app/service.jar -version

USER 10001:10001
EXPOSE 8080

# Readiness over plain bash: no curl in the image, and no second JVM per check. Three tries 2 s apart
# cover the JVM's start (about 1 s); compose.yaml adds a start period on top. On the management
# port when MANAGEMENT_PORT is set, where the probes then are.
HEALTHCHECK --interval=2s --timeout=2s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${MANAGEMENT_PORT:-$HTTP_PORT} && printf 'GET /health/ready HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]

# Exec form: the JVM is PID 1 and receives SIGTERM itself; no shell in between to swallow it.
# Container-aware heap, and die on OOM rather than limp (the orchestrator restarts us). Flags here,
# not in JAVA_TOOL_OPTIONS, whose "Picked up" line would be the one log line that is not JSON.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError", \
            "-XX:AOTCache=/app/service.aot", "-jar", "/app/service.jar"]
