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
RUN groupadd --system app && useradd --system --gid app --home-dir /app app \
    && mkdir -p /app/data && chown app:app /app/data
WORKDIR /app
COPY --from=build /src/target/service.jar service.jar
COPY conf conf
USER app

# Container-aware heap, and die on OOM rather than limp (the orchestrator restarts us).
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError" \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080 \
    JOURNAL_PATH=/app/data/journal.jsonl
EXPOSE 8080
VOLUME ["/app/data"]

# Readiness over plain bash: no curl in the image, and no second JVM per check.
HEALTHCHECK --interval=2s --timeout=2s --start-period=20s --retries=2 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${HTTP_PORT} && printf 'GET /health/ready HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]

# Exec form: the JVM is PID 1 and receives SIGTERM itself; no shell in between to swallow it.
ENTRYPOINT ["java", "-jar", "/app/service.jar"]
