#!/usr/bin/env bash
# The benchmark: the template against a bare Vert.x baseline, in one run, on 127.0.0.1.
# Run it after the README's build command. ROUNDS (default 3) and DURATION (seconds per throughput
# run, default 10) size it, INSTANCES (default 1) is HTTP_INSTANCES for both servers; the defaults
# take about 5 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null || ! command -v taskset >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk util-linux
fi
# The package Main is in: these scripts keep working after the package is renamed.
pkg=$(sed -n 's:.*<main.class>\(.*\)\.Main</main.class>.*:\1:p' pom.xml)
if [ ! -f target/service.jar ] || [ ! -d target/test-classes ]; then
  echo "build first: ./mvnw -q package -DskipTests" >&2
  exit 2
fi

out="bench/results/bench-$(date -u +%Y%m%dT%H%M%SZ).json"
java -cp target/service.jar:target/test-classes "$pkg.Benchmark" \
  "${ROUNDS:-3}" "${DURATION:-10}" "$out" "${INSTANCES:-1}"
