#!/usr/bin/env bash
# The benchmark: the template against a bare Vert.x baseline, in one run, on 127.0.0.1.
# Run it after the README's build command. ROUNDS (default 3) and DURATION (seconds per throughput
# run, default 10) size it, INSTANCES (default 1) is HTTP_INSTANCES for both servers; the defaults
# take about 13 minutes on 2 cores. BENCH=connection-layer runs only what the connection layer
# costs: /hello over HTTP/1.1 and HTTP/2 against bare Vert.x, paired by round, with the server's CPU
# time per request, and both under slow-head connections of both protocols. BENCH=memory runs the
# same /hello rounds with both servers on a heap of fixed size, the 576 MiB the image gives the JVM
# in the compose file's and the Kubernetes manifest's 768 MiB (-Xms576m -Xmx576m): with the JVM's
# defaults G1 sizes the heap by its pause times, differently from start to start, and a fixed size
# leaves RSS to what each server holds.
set -euo pipefail
cd "$(dirname "$0")/.."

# wrk and taskset for throughput, h2load (nghttp2-client) for HTTP/2; curl and Python requests (run by Debian's /usr/bin/python3) for
# the real-client table, beside the machine's Node. Go's client runs too if Go is installed
# (apt-get install golang-go).
. bench/lib.sh
/usr/bin/python3 -c 'import requests' 2>/dev/null || PACKAGES=python3-requests
needs wrk=wrk taskset=util-linux h2load=nghttp2-client curl=curl

# example:start
# BENCH=example: the example's own benchmark instead, POST /work on H2 and PostgreSQL against a bare
# Vert.x service with the same pool and insert (ROUNDS default 5, DURATION default 8; it starts a
# PostgreSQL server of its own, from Debian's postgresql package, as the tests do).
if [ "${BENCH:-}" = example ]; then
  exec java -cp target/service.jar:target/test-classes "$pkg.example.WorkBenchmark" \
    "${ROUNDS:-5}" "${DURATION:-8}"
fi
# example:end

out="bench/results/bench-$(date -u +%Y%m%dT%H%M%SZ).json"
java -cp target/service.jar:target/test-classes "$pkg.Benchmark" \
  "${ROUNDS:-3}" "${DURATION:-10}" "$out" "${INSTANCES:-1}"
