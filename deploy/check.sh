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
# The replicas must keep idle connections longer than HAProxy does (see deploy/haproxy.cfg).
ms() { # haproxy time value -> ms
  case "$1" in *ms) echo "${1%ms}" ;; *s) echo $((${1%s} * 1000)) ;; *m) echo $((${1%m} * 60000)) ;; *) echo "$1" ;; esac
}
client=$(ms "$(awk '$1=="timeout" && $2=="client" {print $3}' deploy/haproxy.cfg)")
server=$(ms "$(awk '$1=="timeout" && $2=="server" {print $3}' deploy/haproxy.cfg)")
purge=$(ms "$(grep -o 'pool-purge-delay [0-9a-z]*' deploy/haproxy.cfg | awk '{print $2}')")
idle=$(sed -n 's/^ *HTTP_IDLE_TIMEOUT_MS: *"\([0-9]*\)".*/\1/p' compose.yaml)
proxy=$(( (client > server ? client : server) + purge ))
if [ -z "$idle" ] || [ "$idle" -le "$proxy" ]; then
  echo "compose.yaml: HTTP_IDLE_TIMEOUT_MS=${idle:-unset} must exceed HAProxy's idle keep ($proxy ms)" >&2
  exit 1
fi
echo "idle timeouts: replicas ${idle} ms > HAProxy ${proxy} ms"
npx --yes dockerfilelint@1.8.0 Dockerfile
echo "Dockerfile: no lint findings"
