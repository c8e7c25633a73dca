#!/usr/bin/env bash
# Server CPU per /hello request, the template (the tests' TestMain, default configuration: metrics,
# guard, h2c) against bare Vert.x (BaselineMain), with both servers running side by side and the
# load switching between them every BURST seconds (default 3). bench/run.sh starts a fresh server
# per round, so a round's figure carries that round's JIT decisions and the machine's state for a
# whole minute; here both servers are warmed once and then measured in short bursts that alternate
# (template, bare, bare, template, ...), so each pair of bursts sees the same machine.
#
# PAIRS (default 15) pairs per protocol, HTTP/1.1 (wrk, 32 connections) then HTTP/2 (h2load over
# h2c, 16 connections × 10 streams), as bench/run.sh loads them; PROTOCOLS=http1 or PROTOCOLS=h2
# for one. INSTANCES (default 1) event loops: with one, each server is pinned to core 1 and the load
# generator to core 0; with more, they share every core. CPU time is the server process's (utime +
# stime in /proc), so steal does not count.
# Prints, per protocol, the median of the per-pair ratios with their range, and the ratio of the
# totals (all the CPU over all the requests). Run it after the README's build command.
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
needs wrk=wrk taskset=util-linux h2load=nghttp2-client curl=curl
pairs=${PAIRS:-15}
seconds=${BURST:-3}
instances=${INSTANCES:-1}
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

server=() load_core=() wrk_threads=-t2
if [ "$instances" = 1 ] && [ "$(nproc)" -ge 2 ]; then
  server=(taskset -c 1) load_core=(taskset -c 0) wrk_threads=-t1
fi

# start NAME MAIN PORT
start() {
  CONFIG_PATH=src/test/resources/test-config.json HTTP_HOST=127.0.0.1 HTTP_PORT=$3 \
    HTTP_INSTANCES=$instances "${server[@]}" java -cp target/service.jar:target/test-classes \
    "$pkg.$2" >"$work/$1.log" 2>&1 &
  pids+=($!)
  echo $! >"$work/$1.pid"
}

start template TestMain 18780
start bare BaselineMain 18781
for port in 18780 18781; do
  until curl -s -o /dev/null "http://127.0.0.1:$port/hello"; do
    for name in template bare; do
      kill -0 "$(cat "$work/$name.pid")" 2>/dev/null || { cat "$work/$name.log" >&2; exit 1; }
    done
    sleep 0.05
  done
done

# burst PROTOCOL PORT SECONDS: prints the requests that succeeded
burst() {
  if [ "$1" = h2 ]; then
    "${load_core[@]}" h2load -c16 -m10 -D"$3" "http://127.0.0.1:$2/hello" |
      awk '/^requests:/ {print $8}'
  else
    "${load_core[@]}" wrk "$wrk_threads" -c32 -d"$3s" "http://127.0.0.1:$2/hello" |
      awk '/requests in/ {print $1}'
  fi
}

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# measure NAME PORT PROTOCOL: one burst; appends "REQUESTS TICKS" to NAME-PROTOCOL
measure() {
  local pid before requests
  pid=$(cat "$work/$1.pid")
  before=$(ticks "$pid")
  requests=$(burst "$3" "$2" "$seconds")
  [ -n "$requests" ] && [ "$requests" -gt 0 ] || { echo "no request succeeded: $1 $3" >&2; exit 1; }
  echo "$requests $(($(ticks "$pid") - before))" >>"$work/$1-$3"
}

hz=$(getconf CLK_TCK)
echo "server CPU per /hello request, $pairs pairs of ${seconds} s bursts," \
  "$instances event loop(s) ($(nproc) cores, $(java -version 2>&1 | head -n1))"
for proto in ${PROTOCOLS:-http1 h2}; do
  # Four warm-up bursts each: fewer leave the JIT compiling into the measured ones.
  for _ in 1 2 3 4; do
    burst $proto 18780 2 >/dev/null
    burst $proto 18781 2 >/dev/null
  done
  for i in $(seq "$pairs"); do
    if [ $((i % 2)) = 1 ]; then
      measure template 18780 $proto
      measure bare 18781 $proto
    else
      measure bare 18781 $proto
      measure template 18780 $proto
    fi
  done
  paste -d' ' "$work/template-$proto" "$work/bare-$proto" >"$work/pairs-$proto"
  ratios=$(awk '{print ($2 / $1) / ($4 / $3)}' "$work/pairs-$proto" | sort -g | tr '\n' ' ')
  awk -v hz="$hz" -v p="$proto" -v ratios="$ratios" '
    { tr += $1; tt += $2; br += $3; bt += $4 }
    END {
      n = split(ratios, r, " ")
      med = n % 2 ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
      printf "%-5s template %.2f µs, bare %.2f µs per request; template / bare: median of pairs" \
        " %.3f (%.3f–%.3f), ratio of totals %.3f\n", p, tt / hz / tr * 1e6, bt / hz / br * 1e6,
        med, r[1], r[n], (tt / tr) / (bt / br)
    }' "$work/pairs-$proto"
done
