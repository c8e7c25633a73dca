#!/usr/bin/env bash
# Server CPU per /hello request, the template (the tests' TestMain, default configuration: metrics,
# guard, h2c) against bare Vert.x (BaselineMain), with both servers running side by side and the
# load switching between them every BURST seconds (default 3).
#
# Two kinds of noise, two remedies. The machine's state drifts over minutes: within a round both
# servers run at once, warmed alike, and their bursts alternate (template, bare, bare, template,
# ...), so each pair sees the same machine. And each JVM compiles the same code its own way, which
# moved one process's CPU per request by up to 8% against another's here: every round starts both
# servers afresh, and the figure is the median over ROUNDS (default 5) of each round's ratio of its
# totals (all the CPU over all the requests of its PAIRS pairs, default 6). Each server first gets
# WARMUP 2 s bursts (default 4); more of them measure the steady state, once the JIT is done.
#
# HTTP/1.1 (wrk, 32 connections) then HTTP/2 (h2load over h2c, 16 connections × 10 streams), as
# bench/run.sh loads them; PROTOCOLS=http1 or PROTOCOLS=h2 for one. INSTANCES (default 1) event
# loops: with one, each server is pinned to core 1 and the load generator to core 0; with more,
# they share every core. CPU time is the server process's (utime + stime in /proc), so steal does
# not count; each round also splits it by thread: the event loops, which serve the requests, the JIT
# compilers, still at work after the warm-up, the collector, and the rest; and into user space and
# the kernel (its system calls, and the sockets' work done in them). Bare Vert.x runs as shipped,
# with Netty's flight-recorder events on, which the template turns off (SystemDefaults); they cost
# a check per buffer, and JAVA_TOOL_OPTIONS=-Dio.netty.jfr.enabled=false turns them off in both.
# Run it after the README's build command.
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
needs wrk=wrk taskset=util-linux h2load=nghttp2-client curl=curl
rounds=${ROUNDS:-5}
pairs=${PAIRS:-6}
seconds=${BURST:-3}
warmup=${WARMUP:-4}
instances=${INSTANCES:-1}
work=$(mktemp -d)
trap 'kill $(cat "$work"/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT

core= load_core=()
if [ "$instances" = 1 ] && [ "$(nproc)" -ge 2 ]; then
  core=1 load_core=(taskset -c 0)
fi

# start NAME MAIN PORT
start() {
  serve "$work/$1.log" "$3" "$instances" "$core" "$2"
  echo $served >"$work/$1.pid"
}

stop() {
  local pid
  pid=$(cat "$work/$1.pid")
  kill -TERM "$pid"
  wait "$pid" || true
  rm "$work/$1.pid"
}

# ticks PID: "TOTAL LOOPS JIT GC KERNEL", the process's CPU ticks so far, those of its event loops,
# its JIT compilers and its collector (the VM thread runs the serial collector, as on one core; G1
# has threads of its own), and the process's ticks in the kernel. A thread's name may hold spaces:
# its stat fields are counted after the ")".
ticks() {
  local total kernel
  read -r total kernel < <(awk '{print $14 + $15, $15}' "/proc/$1/stat")
  for task in /proc/"$1"/task/*; do
    echo "$(tr -d ' ' <"$task/comm") $(sed 's/.*) //' "$task/stat" | awk '{print $12 + $13}')"
  done 2>/dev/null | awk -v total="$total" -v kernel="$kernel" '
    /^vert\.x-eventloo/ {l += $2} /^C[12]CompilerThre/ {j += $2} /^(VMThread|GC|G1)/ {g += $2}
    END {print total, l + 0, j + 0, g + 0, kernel}'
}

# measure NAME PORT PROTOCOL: one burst; appends "REQUESTS TICKS LOOPS JIT GC KERNEL" to
# NAME-PROTOCOL
measure() {
  local pid before after requests
  pid=$(cat "$work/$1.pid")
  before=$(ticks "$pid")
  requests=$(burst "$3" "$2" "$seconds" "${load_core[@]}")
  [ -n "$requests" ] && [ "$requests" -gt 0 ] || { echo "no request succeeded: $1 $3" >&2; exit 1; }
  after=$(ticks "$pid")
  echo "$requests $before $after" |
    awk '{print $1, $7 - $2, $8 - $3, $9 - $4, $10 - $5, $11 - $6}' >>"$work/$1-$3"
}

hz=$(getconf CLK_TCK)
echo "server CPU per /hello request: $rounds rounds of $pairs pairs of ${seconds} s bursts," \
  "$instances event loop(s) ($(nproc) cores, $(java -version 2>&1 | head -n1))"
for proto in ${PROTOCOLS:-http1 h2}; do
  for round in $(seq "$rounds"); do
    start template TestMain 18780
    start bare BaselineMain 18781
    # Four warm-up bursts each by default: fewer leave the JIT compiling into the measured ones.
    for _ in $(seq "$warmup"); do
      burst $proto 18780 2 "${load_core[@]}" >/dev/null
      burst $proto 18781 2 "${load_core[@]}" >/dev/null
    done
    rm -f "$work/template-$proto" "$work/bare-$proto"
    for i in $(seq "$pairs"); do
      if [ $((i % 2)) = 1 ]; then
        measure template 18780 $proto
        measure bare 18781 $proto
      else
        measure bare 18781 $proto
        measure template 18780 $proto
      fi
    done
    stop template
    stop bare
    # "TEMPLATE_US BARE_US RATIO LOOPS_RATIO USER_RATIO KERNEL_RATIO" for the round, and where each
    # server's CPU went
    paste -d' ' "$work/template-$proto" "$work/bare-$proto" | awk -v hz="$hz" \
      -v p="$proto" -v r="$round" -v out="$work/rounds-$proto" '
      { for (i = 1; i <= 12; i++) s[i] += $i }
      END {
        for (i = 2; i <= 6; i++) {
          t[i] = s[i] / hz / s[1] * 1e6; b[i] = s[i + 6] / hz / s[7] * 1e6
        }
        # The total and the threads are read a moment apart: "other" may come out a tick below 0.
        to = t[2] - t[3] - t[4] - t[5]; bo = b[2] - b[3] - b[4] - b[5]
        printf "%.2f %.2f %.3f %.3f %.3f %.3f\n", t[2], b[2], t[2] / b[2], t[3] / b[3],
          (t[2] - t[6]) / (b[2] - b[6]), t[6] / b[6] >>out
        printf "%-5s round %s: template %.2f µs, bare %.2f µs per request, %.3f", p, r, t[2], b[2],
          t[2] / b[2]
        printf " (event loops %.2f / %.2f, JIT %.2f / %.2f, GC %.2f / %.2f, other %.2f / %.2f;",
          t[3], b[3], t[4], b[4], t[5], b[5], (to > 0 ? to : 0), (bo > 0 ? bo : 0)
        printf " in the kernel %.2f / %.2f)\n", t[6], b[6]
      }'
  done
  echo "$proto template / bare, median of the rounds:" \
    "$(awk '{print $3}' "$work/rounds-$proto" | median_range 3);" \
    "event loop threads alone: $(awk '{print $4}' "$work/rounds-$proto" | median_range 3);" \
    "in user space: $(awk '{print $5}' "$work/rounds-$proto" | median_range 3);" \
    "in the kernel: $(awk '{print $6}' "$work/rounds-$proto" | median_range 3)"
done
