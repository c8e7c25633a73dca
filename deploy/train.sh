#!/usr/bin/env bash
# The image's training run (Dockerfile): starts the service from JAR with the java options given,
# requests each path in TRAINING_PATHS (default: what every application serves), then stops it with
# SIGTERM. It fails, and so does the image's build, if a request is not answered 2xx or the service
# does not exit 0: an archive is never trained on errors. The service runs in a scratch directory
# (with the config file of this one), so nothing it writes is kept.
#
#   deploy/train.sh JAR [JAVA_OPTION...]
#   TRAINING_PATHS="/health/ready /items/a" deploy/train.sh target/service.jar -XX:ArchiveClassesAtExit=app.jsa
#
# Needs only bash: the requests go through bash's /dev/tcp, as in a JRE image with no curl.
set -euo pipefail

jar=$(realpath "$1")
shift
paths=${TRAINING_PATHS:-/health/live /health/ready /metrics}
if [ -z "${CONFIG_PATH:-}" ] && [ -f conf/config.json ]; then
  export CONFIG_PATH="$PWD/conf/config.json"
fi

scratch=$(mktemp -d)
log="$scratch/service.log"
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() {
  echo "training run: $*" >&2
  sed 's/^/  [service] /' "$log" >&2
  exit 1
}

# A free port picked by the service itself, read back from its log.
(cd "$scratch" && exec env --default-signal=INT,TERM HTTP_HOST=127.0.0.1 HTTP_PORT=0 \
  java "$@" -jar "$jar" >"$log" 2>&1) &
pid=$!
port=
for _ in $(seq 300); do
  port=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\) .*/\1/p' "$log" | head -n1)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || fail "the service exited before it listened"
  sleep 0.1
done
[ -n "$port" ] || fail "the service did not listen within 30 s"

status_of() { # GET $1 over HTTP/1.0 -> the response's status code
  local line
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf 'GET %s HTTP/1.0\r\n\r\n' "$1" >&3
  IFS= read -r line <&3 || line=
  exec 3<&-
  line=${line%$'\r'}
  echo "${line#* }" | cut -d' ' -f1
}

for path in $paths; do
  status=$(status_of "$path")
  # Readiness may be 503 for a moment while the application's checks settle.
  for _ in $(seq 100); do
    [ "$status" = 503 ] || break
    sleep 0.1
    status=$(status_of "$path")
  done
  case "$status" in
    2??) echo "training run: GET $path $status" ;;
    *) fail "GET $path answered ${status:-nothing}, not 2xx" ;;
  esac
done

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" -eq 0 ] || fail "the service exited with status $rc after SIGTERM, not 0"
echo "training run: done, exit 0"
