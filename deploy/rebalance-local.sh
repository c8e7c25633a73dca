#!/usr/bin/env bash
# HTTP_MAX_CONNECTION_AGE_MS behind an L4 balancer, as local processes: HAProxy in mode tcp in
# front of three instances of the fat jar, 16 clients with one long-lived connection each, a fourth
# instance started after 10 s. Prints each instance's share of the requests after the fourth
# started, and the failed requests; exits 1 if any failed.
# Run after the README's build command. Usage: deploy/rebalance-local.sh [http1|h2c|h2load [max-age-ms]]
# (h2load never reconnects after a GOAWAY: it shows no failed request, not the rebalancing)
# (max-age-ms 0: connections are never retired, the fourth instance gets nothing)
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v haproxy >/dev/null || missing+=(haproxy)
command -v h2load >/dev/null || missing+=(nghttp2-client)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
# The package Main is in: these scripts keep working after the package is renamed.
pkg=$(sed -n 's:.*<main.class>\(.*\)\.Main</main.class>.*:\1:p' pom.xml)
if [ ! -f target/service.jar ] || [ ! -d target/test-classes ]; then
  echo "build first: ./mvnw -q package -DskipTests" >&2
  exit 2
fi
exec java -cp target/service.jar:target/test-classes "$pkg.Rebalance" "${1:-http1}" "${2:-5000}"
