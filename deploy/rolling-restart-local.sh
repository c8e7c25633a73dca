#!/usr/bin/env bash
# The compose topology as local processes: HAProxy (deploy/haproxy.cfg on loopback ports) in front
# of three instances of the fat jar, closed-loop load through HAProxy, each instance restarted in
# turn. Prints how many requests were served and failed; exits 1 if any failed.
# Run after the README's build command. Usage: deploy/rolling-restart-local.sh [clients[@pace-ms] [delay-ms [quiet-ms]]]
# (clients@pace-ms: each client sends a request every pace-ms instead of in a closed loop)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v haproxy >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy
fi
# The package Main is in: these scripts keep working after the package is renamed.
pkg=$(sed -n 's:.*<main.class>\(.*\)\.Main</main.class>.*:\1:p' pom.xml)
if [ ! -f target/service.jar ] || [ ! -d target/test-classes ]; then
  echo "build first: ./mvnw -q package -DskipTests" >&2
  exit 2
fi
exec java -cp target/service.jar:target/test-classes "$pkg.RollingRestart" "${1:-32}" "${2:-3000}" "${3:-1500}"
