#!/usr/bin/env bash
# Where a /hello request's CPU goes: the template (the tests' TestMain) and bare Vert.x
# (BaselineMain) under the same load (wrk; h2load over h2c with PROTOCOL=h2), one event loop pinned
# to core 1 and the load generator to core 0, each recorded by Java Flight Recorder sampling every
# millisecond after a warm-up. Prints each server's CPU time per request (from /proc) and, per
# million requests, the event loop's samples, those spent in the template's lifecycle code itself,
# its frames among each sample's five innermost, and the frames whose share differs most between the
# two (self). Run it after the README's build command; DURATION (seconds, default 20) is the
# measured run, and KEEP=1 keeps the recordings (the script says where) for `jfr print` or JDK
# Mission Control.
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
needs wrk=wrk taskset=util-linux curl=curl h2load=nghttp2-client
duration=${DURATION:-20}
# h2 (h2load over h2c, 16 connections × 10 streams) or http1 (wrk, 32 connections)
protocol=${PROTOCOL:-http1}
out=$(mktemp -d)
if [ -n "${KEEP:-}" ]; then
  echo "recordings: $out" >&2
else
  trap 'rm -rf "$out"' EXIT
fi
java_home=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
# The JDK's "profile" settings, with execution samples every millisecond instead of every 10.
sed 's:\(control="method-sampling-java-interval">\)[^<]*<:\11 ms<:' \
  "$java_home/lib/jfr/profile.jfc" >"$out/sample.jfc"

# profile NAME MAIN PORT: prints "NAME REQUESTS CPU_TICKS" and leaves $out/NAME.jfr
profile() {
  local name=$1 main=$2 port=$3
  # DebugNonSafepoints: without it, a sample lands on the frame of the nearest safepoint, often
  # another method once the JIT has inlined. Recorded from the start: JFR started later would
  # deoptimize the warmed-up code as it instruments it.
  serve "$out/$name.log" $port 1 1 "$main" -XX:+UnlockDiagnosticVMOptions \
    -XX:+DebugNonSafepoints -XX:StartFlightRecording=settings="$out/sample.jfc",maxage=1m
  local pid=$served
  # Four warm-up runs: fewer leave the JIT compiling through the measured run. The measured
  # recording is a second one, over the same events.
  for _ in 1 2 3 4; do burst "$protocol" $port 2 taskset -c 0 >/dev/null; done
  jcmd $pid JFR.start name=measured settings="$out/sample.jfc" >/dev/null
  local t0 t1 requests
  t0=$(awk '{print $14+$15}' /proc/$pid/stat)
  requests=$(burst "$protocol" $port "$duration" taskset -c 0)
  t1=$(awk '{print $14+$15}' /proc/$pid/stat)
  jcmd $pid JFR.stop name=measured filename="$out/$name.jfr" >/dev/null
  kill -TERM $pid
  wait $pid || true
  echo "$name $requests $((t1 - t0))"
}

{
  profile template TestMain 18480
  profile baseline BaselineMain 18481
} >"$out/runs.txt"
/usr/bin/python3 - "$out" "$pkg" "$(getconf CLK_TCK)" <<'EOF'
import collections, json, subprocess, sys
out, pkg, hz = sys.argv[1], sys.argv[2].replace('.', '/'), int(sys.argv[3])
runs = {n: (int(r), int(t)) for n, r, t in (l.split() for l in open(f'{out}/runs.txt'))}
# The template's frames among each sample's five innermost (what `jfr print` shows of a stack); the
# innermost frames; the event loop's samples; and those spent in the template's code itself, by
# method: the innermost of its frames in the stack, with nothing above it but the JDK's and Netty's
# utilities (a HashMap the tracking looks in, the clock), no Netty handler and no Vert.x code.
def frames(name):
    text = subprocess.run(['jfr', 'print', '--json', '--stack-depth', '64', '--events',
                           'jdk.ExecutionSample', f'{out}/{name}.jfr'],
                          capture_output=True, text=True, check=True).stdout
    own, top, itself, loop = collections.Counter(), collections.Counter(), collections.Counter(), 0
    for e in json.loads(text)['recording']['events']:
        st = e['values']['stackTrace']
        if not st:
            continue
        names = [f['method']['type']['name'] + '.' + f['method']['name'] for f in st['frames']]
        top[names[0]] += 1
        for n in set(names[:5]):
            if n.startswith(pkg + '/lifecycle'):
                own[n] += 1
        if not e['values']['sampledThread']['javaName'].startswith('vert.x-eventloop'):
            continue
        loop += 1
        for i, n in enumerate(names):
            if n.startswith(pkg + '/lifecycle'):
                if all(not c.startswith(('io/vertx/', 'io/netty/handler/', 'io/netty/channel/'))
                       for c in names[:i]):
                    itself[n] += 1
                break
    return own, top, itself, loop
per = lambda c, n: {k: v * 1e6 / runs[n][0] for k, v in c.items()}
(t_own, t_top, t_itself, t_loop), (_, b_top, _, b_loop) = frames('template'), frames('baseline')
for n, (req, ticks) in runs.items():
    print(f'{n}: {req} requests, {ticks * 1e6 / hz / req:.2f} µs of server CPU per request')
mine = sum(t_itself.values())
print(f'\nevent loop samples per million requests: template {t_loop * 1e6 / runs["template"][0]:.0f},'
      f' bare Vert.x {b_loop * 1e6 / runs["baseline"][0]:.0f}; in the template\'s code itself'
      f' {mine * 1e6 / runs["template"][0]:.0f}, {mine / t_loop:.1%} of its loop\'s, by method:')
for k, v in sorted(per(t_itself, 'template').items(), key=lambda kv: -kv[1])[:10]:
    print(f'{v:8.0f}  {k.replace("/", ".")}')
print('\nthe template\'s own frames among the five innermost: samples per million requests')
for k, v in sorted(per(t_own, 'template').items(), key=lambda kv: -kv[1])[:15]:
    print(f'{v:8.0f}  {k.replace("/", ".")}')
t, b = per(t_top, 'template'), per(b_top, 'baseline')
print('\nself frames, template vs bare Vert.x, samples per million requests: largest differences')
for k in sorted(set(t) | set(b), key=lambda k: -(t.get(k, 0) - b.get(k, 0)))[:15]:
    print(f'{t.get(k, 0):8.0f} {b.get(k, 0):8.0f}  {k.replace("/", ".")}')
EOF
