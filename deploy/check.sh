#!/usr/bin/env bash
# Static checks of the deployment files, with no Docker engine needed: the compose file parses and
# validates, HAProxy accepts its config, and the Dockerfile passes a linter.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v haproxy >/dev/null || missing+=(haproxy)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v npx >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

docker-compose -f compose.yaml config -q
echo "compose.yaml: valid"
# Outside Docker's network app1..app3 do not resolve; HAProxy warns and still checks everything else.
haproxy -c -f deploy/haproxy.cfg 2>&1 | grep -v "could not resolve address" | grep -v '^\[NOTICE\]'
npx --yes dockerfilelint@1.8.0 Dockerfile
echo "Dockerfile: no lint findings"
