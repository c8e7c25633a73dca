#!/usr/bin/env bash
# Rolling restart of the compose deployment, one replica at a time, losing no request:
# recreate a replica (Docker sends SIGTERM and waits stop_grace_period while it drains), wait until
# its container is healthy and HAProxy has it UP again, then go on to the next.
# Build a new image first if that is what you are rolling out: docker compose build
# Usage: deploy/rolling-restart.sh [service...]   (default: app1 app2 app3)
set -euo pipefail
cd "$(dirname "$0")/.."

stats="http://127.0.0.1:8404/stats;csv"
services=("$@")
[ ${#services[@]} -gt 0 ] || services=(app1 app2 app3)

wait_for() { # description, command...
  local what=$1; shift
  for _ in $(seq 120); do
    if "$@"; then return 0; fi
    sleep 1
  done
  echo "timed out waiting for $what" >&2
  exit 1
}
healthy() { [ "$(docker inspect -f '{{.State.Health.Status}}' "$(docker compose ps -q "$1")")" = healthy ]; }
up_in_haproxy() { curl -fsS "$stats" | awk -F, -v s="$1" '$1=="app" && $2==s {print $18}' | grep -qx UP; }

for service in "${services[@]}"; do
  start=$(date +%s)
  echo "restarting $service"
  docker compose up -d --no-deps --force-recreate "$service"
  wait_for "$service to be healthy" healthy "$service"
  wait_for "HAProxy to route to $service" up_in_haproxy "$service"
  echo "$service is back in $(( $(date +%s) - start )) s"
done
