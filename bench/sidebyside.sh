#!/usr/bin/env bash
# The template's own per-request CPU, measured in one process: SideBySideMain runs the tests'
# TestMain and, beside it on the same Vert.x, bare Vert.x's GET /hello (BaselineMain's verticle),
# each on an event loop of its own. Both servers are loaded at the same time, each by a load
# generator of its own (HTTP/2: h2load over h2c, 16 connections × 10 streams; HTTP/1.1: wrk, 32
# connections), and each round reads what each server's event-loop thread spent per request
# (/proc/<pid>/task/<tid>/schedstat, in ns). So both see the same machine at the same moment and run
# the same compiled code: the ratio is the template's per-request work on the loop and nothing
# else, to about 1% within a process and 1–2% between processes, where bench/cpu.sh's rounds, one
# JVM against another, spread over 10%. What this leaves out, bench/cpu.sh counts: the whole
# process's CPU (the JIT, the collector, the JVM meters' notifications), and how differently a
# process of its own would compile the template's code.
#
# PROCESSES (default 3) starts of the process, each with four 2 s warm-up bursts and then ROUNDS
# (default 5) rounds of DURATION seconds (default 3); PROTOCOLS=h2 or PROTOCOLS=http1 for one protocol. The
# process is pinned to core 1 and the load generators to core 0. Run it after the README's build
# command.
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
needs wrk=wrk taskset=util-linux h2load=nghttp2-client curl=curl
[ "$(nproc)" -ge 2 ] || { echo "needs two cores: one for the servers, one for the load" >&2; exit 2; }
processes=${PROCESSES:-3}
rounds=${ROUNDS:-5}
seconds=${DURATION:-3}
template_port=18790 bare_port=18791
work=$(mktemp -d)
# The server is usually gone by then: a failed kill must neither fail the run nor keep the files.
trap 'kill ${served:-} 2>/dev/null || true; rm -rf "$work"' EXIT

# loop_ns: "TID NANOSECONDS" for each event-loop thread of the server (its name, truncated by the
# kernel, is vert.x-eventloo...)
loop_ns() {
  local task
  for task in /proc/"$served"/task/*; do
    [ "$(cat "$task/comm")" = vert.x-eventloo ] && echo "${task##*/} $(cut -d' ' -f1 "$task/schedstat")"
  done
  return 0
}

# busiest PROTOCOL PORT: the event-loop thread that serves PORT (the one that ran most under load)
busiest() {
  local before
  before=$(loop_ns)
  burst "$1" "$2" 2 taskset -c 0 >/dev/null
  join <(sort <<<"$before") <(loop_ns | sort) | awk '$3 - $2 > max {max = $3 - $2; tid = $1} END {print tid}'
}

ns() { cut -d' ' -f1 "/proc/$served/task/$1/schedstat"; }

echo "event-loop CPU per /hello request in one process, template / bare Vert.x: $processes" \
  "process(es) of $rounds rounds of $seconds s ($(java -version 2>&1 | head -n1))"
for proto in ${PROTOCOLS:-http1 h2}; do
  for process in $(seq "$processes"); do
    BARE_PORT=$bare_port serve "$work/server.log" $template_port 1 1 SideBySideMain
    until curl -s -o /dev/null "http://127.0.0.1:$bare_port/hello"; do sleep 0.05; done
    for _ in 1 2 3 4; do
      burst $proto $template_port 2 taskset -c 0 >/dev/null &
      burst $proto $bare_port 2 taskset -c 0 >/dev/null
      wait $!
    done
    template=$(busiest $proto $template_port)
    bare=$(busiest $proto $bare_port)
    if [ "$template" = "$bare" ]; then
      echo "both servers run on one event loop: no measure" >&2
      exit 1
    fi
    for round in $(seq "$rounds"); do
      t0=$(ns "$template") b0=$(ns "$bare")
      burst $proto $template_port "$seconds" taskset -c 0 >"$work/template.requests" &
      bare_requests=$(burst $proto $bare_port "$seconds" taskset -c 0)
      wait $!
      t1=$(ns "$template") b1=$(ns "$bare")
      template_requests=$(cat "$work/template.requests")
      awk -v t=$((t1 - t0)) -v tr="$template_requests" -v b=$((b1 - b0)) -v br="$bare_requests" \
        -v p=$proto -v n="$process.$round" -v out="$work/$proto" 'BEGIN {
          printf "%-5s %s: template %.2f µs (%d requests), bare %.2f µs (%d requests), %.3f\n",
            p, n, t / tr / 1000, tr, b / br / 1000, br, (t / tr) / (b / br)
          printf "%.4f\n", (t / tr) / (b / br) >>out
        }'
    done
    kill -TERM "$served"
    wait "$served" || true
  done
  echo "$proto template / bare, median of the rounds: $(median_range 3 <"$work/$proto")"
done
