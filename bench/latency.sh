#!/usr/bin/env bash
# Latency at a fixed request rate below saturation: /hello from the template (the tests' TestMain)
# and bare Vert.x (BaselineMain), one event loop pinned to core 1, h2load pinned to core 0 sending
# RATE requests a second on each of 32 connections (default 250: 8,000 a second in all), over
# HTTP/1.1 and HTTP/2, for DURATION seconds (default 10) after four 2 s warm-ups. Servers alternate
# round by round (ROUNDS, default 5); h2load logs every request, and the script prints each round's
# p50, p99 and p99.9 and the median of the per-round p99 ratios. Run it after the README's build
# command.
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
needs h2load=nghttp2-client taskset=util-linux curl=curl
rounds=${ROUNDS:-5}
rate=${RATE:-250}
duration=${DURATION:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# percentiles FILE: "p50 p99 p99.9" in ms of h2load's log (start µs, status, duration µs)
percentiles() {
  awk -F'\t' '$2 == 200 {print $3}' "$1" | sort -n | awk '
    {d[NR] = $1}
    END {
      if (NR == 0) { print "no 200s"; exit 1 }
      printf "%.2f %.2f %.2f\n", d[int(NR * 0.5) + 1] / 1000, d[int(NR * 0.99) + 1] / 1000,
        d[int(NR * 0.999) + 1] / 1000
    }'
}

# measure NAME MAIN PROTOCOL ROUND: one server, one run; appends "ROUND p50 p99 p99.9" to NAME-PROTOCOL
measure() {
  local name=$1 main=$2 proto=$3 round=$4 port=18680 pid
  local h1=()
  [ "$proto" = http1 ] && h1=(--h1)
  serve "$work/$name.log" $port 1 1 "$main"
  pid=$served
  for _ in 1 2 3 4; do
    taskset -c 0 h2load "${h1[@]}" -c32 -m1 -D2 "http://127.0.0.1:$port/hello" >/dev/null
  done
  taskset -c 0 h2load "${h1[@]}" -c32 -m1 --rps="$rate" -D"$duration" \
    --log-file="$work/run.log" "http://127.0.0.1:$port/hello" >"$work/h2load.out"
  kill -TERM $pid
  wait $pid || true
  echo "$round $(percentiles "$work/run.log")" >>"$work/$name-$proto"
}

for round in $(seq "$rounds"); do
  for proto in http1 http2; do
    measure template TestMain $proto "$round"
    measure bare BaselineMain $proto "$round"
  done
done

echo "/hello at $((rate * 32)) requests a second (32 connections × $rate), one event loop;"
echo "ms per round, template | bare Vert.x: p50 p99 p99.9; p99 ratio"
for proto in http1 http2; do
  echo "$proto:"
  paste -d' ' "$work/template-$proto" "$work/bare-$proto" | awk '
    {r = $3 / $7; printf "  round %s: %s %s %s | %s %s %s; %.2f\n", $1, $2, $3, $4, $6, $7, $8, r}'
  echo "  p99 template / bare: median $(paste -d' ' "$work/template-$proto" "$work/bare-$proto" |
    awk '{print $3 / $7}' | median_range 2)"
done
