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
FROM eclipse-temurin:17-jre
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# A numeric user, so that Kubernetes' runAsNonRoot can verify it (deploy/k8s).
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app app \
    && mkdir -p /app/data && chown app:app /app/data
WORKDIR /app
COPY --from=build /src/target/service.jar service.jar
COPY conf conf

ENV HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080 \
    JOURNAL_PATH=/app/data/journal.jsonl

# Class-data sharing: a training run (start, one request of each kind, graceful SIGTERM) records
# the classes the service loads into an archive the JVM maps at start. It roughly halves the time
# to the first answered request (README, "Deploy with docker compose").
RUN JOURNAL_PATH=/tmp/training.jsonl java -XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError \
        -XX:ArchiveClassesAtExit=/app/service.jsa -Xlog:cds=off \
        -Xlog:cds+dynamic=off -jar /app/service.jar & pid=$!; \
    get() { (exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET %s HTTP/1.0\r\n\r\n' "$1" >&3 && head -n1 <&3); }; \
    for _ in $(seq 300); do get /health/ready 2>/dev/null | grep -q ' 200 ' && break; sleep 0.1; done; \
    get /hello && get '/work?ms=1' && kill -TERM "$pid" && wait "$pid" \
    && rm -f /tmp/training.jsonl && test -s /app/service.jsa

USER 10001:10001
EXPOSE 8080
VOLUME ["/app/data"]

# Readiness over plain bash: no curl in the image, and no second JVM per check. Three tries 2 s apart
# cover the JVM's start (about 1 s); compose.yaml adds a start period on top.
HEALTHCHECK --interval=2s --timeout=2s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${HTTP_PORT} && printf 'GET /health/ready HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]

# Exec form: the JVM is PID 1 and receives SIGTERM itself; no shell in between to swallow it.
# Container-aware heap, and die on OOM rather than limp (the orchestrator restarts us). Flags here,
# not in JAVA_TOOL_OPTIONS, whose "Picked up" line would be the one log line that is not JSON.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError", \
            "-XX:SharedArchiveFile=/app/service.jsa", "-jar", "/app/service.jar"]
