#!/usr/bin/env bash
# Start → first 200, whole process (exec to the first answered GET, polled every 5 ms), median of
# ROUNDS (default 7), the variants alternating round by round, and the ratios that matter as the
# median of per-round pairs:
#   - what the machinery costs: the tests' TestMain (the lifecycle, no database) against bare Vert.x
#     (BaselineMain), both from the jar and the test classes, on the default JDK; and the same two
#     each with a class-data-sharing archive of its own, from a training start of its own, to tell
#     how much of the difference is loading classes. Bare Vert.x runs as shipped, with Netty's
#     flight-recorder events on, which the template turns off (SystemDefaults); for both off,
#     JAVA_TOOL_OPTIONS=-Dio.netty.jfr.enabled=false; and the template without its class preloading
#     (-Dclass.preload=false), to tell what the preloading thread saves;
#   - the jar as the image runs it (`java -jar`, conf/config.json, in a scratch directory where
#     whatever it writes under data/ goes): on the default JDK without and with the class-data-sharing archive the
#     Dockerfile makes, and, if a JDK 25 is under /usr/lib/jvm (or JDK25=path), without and with an
#     AOT cache (JEP 483/514, -XX:AOTCacheOutput) from the same training run (deploy/train.sh).
# Run it after the README's build command.
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
needs curl=curl
rounds=${ROUNDS:-7}
jar=$PWD/target/service.jar
cp="$jar:$PWD/target/test-classes"
jdk25=${JDK25:-$(compgen -G '/usr/lib/jvm/*-25-*' | head -n1 || true)}
[ -n "$jdk25" ] && [ -x "$jdk25/bin/java" ] || jdk25=
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r conf "$work/"
# The image's flags (Dockerfile), in every variant.
flags=(-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError)

echo "training runs (deploy/train.sh, as the image's build does)..." >&2
deploy/train.sh "$jar" "${flags[@]}" -XX:ArchiveClassesAtExit="$work/service.jsa" \
  -Xlog:cds=off -Xlog:cds+dynamic=off >/dev/null
if [ -n "$jdk25" ]; then
  PATH="$jdk25/bin:$PATH" deploy/train.sh "$jar" "${flags[@]}" \
    -XX:AOTCacheOutput="$work/service.aot" >/dev/null
fi

# first200 NAME PATH COMMAND...: one start, in the scratch directory; appends its ms to NAME's file.
first200() {
  local name=$1 path=$2
  shift 2
  local port=18580 t0 t1 pid
  t0=$(date +%s%N)
  (cd "$work" && exec env --default-signal=INT,TERM HTTP_HOST=127.0.0.1 HTTP_PORT=$port \
    HTTP_INSTANCES=1 "$@" >"$work/$name.log" 2>&1) &
  pid=$!
  until curl -s -o /dev/null -f "http://127.0.0.1:$port$path"; do
    kill -0 $pid 2>/dev/null || { cat "$work/$name.log" >&2; exit 1; }
    sleep 0.005
  done
  t1=$(date +%s%N)
  kill -TERM $pid
  wait $pid || true
  echo $(((t1 - t0) / 1000000)) >>"$work/$name.ms"
}

java17=$(command -v java)
# The lifecycle tests' configuration: TestMain declares no database.
lifecycle=(env CONFIG_PATH="$PWD/src/test/resources/test-config.json" "$java17" "${flags[@]}")
tests=("${lifecycle[@]}" -cp "$cp")
# A dynamic archive takes classes from jars only: the test classes, jarred.
"$(dirname "$(readlink -f "$java17")")/jar" cf "$work/tests.jar" -C target/test-classes .
archived=("${lifecycle[@]}" -cp "$jar:$work/tests.jar" -Xlog:cds=off -Xlog:cds+dynamic=off)
# Each one's training: a start to its first 200, then SIGTERM; the classes it loaded are archived
# at exit.
for main in TestMain BaselineMain; do
  first200 "train-$main" /hello "${archived[@]}" -XX:ArchiveClassesAtExit="$work/$main.jsa" \
    "$pkg.$main"
  # The runs below hide the JVM's archive messages: one that fails here would go unnoticed there.
  [ -s "$work/$main.jsa" ] || { cat "$work/train-$main.log" >&2; exit 1; }
done
for _ in $(seq "$rounds"); do
  first200 template-machinery /hello "${tests[@]}" "$pkg.TestMain"
  first200 bare-vertx /hello "${tests[@]}" "$pkg.BaselineMain"
  first200 template-no-preload /hello "${tests[@]}" -Dclass.preload=false "$pkg.TestMain"
  first200 template-machinery-cds /hello "${archived[@]}" \
    -XX:SharedArchiveFile="$work/TestMain.jsa" "$pkg.TestMain"
  first200 bare-vertx-cds /hello "${archived[@]}" -XX:SharedArchiveFile="$work/BaselineMain.jsa" \
    "$pkg.BaselineMain"
  first200 jar /health/live "$java17" "${flags[@]}" -jar "$jar"
  first200 jar-cds /health/live "$java17" "${flags[@]}" -XX:SharedArchiveFile="$work/service.jsa" \
    -Xlog:cds=off -jar "$jar"
  if [ -n "$jdk25" ]; then
    first200 jar-jdk25 /health/live "$jdk25/bin/java" "${flags[@]}" -jar "$jar"
    first200 jar-jdk25-aot /health/live "$jdk25/bin/java" "${flags[@]}" \
      -XX:AOTCache="$work/service.aot" -jar "$jar"
  fi
done

echo "start → first 200, ms, median of $rounds ($(java -version 2>&1 | head -n1)${jdk25:+; JDK 25: $("$jdk25/bin/java" -version 2>&1 | head -n1)})"
for name in template-machinery bare-vertx template-no-preload template-machinery-cds bare-vertx-cds \
  jar jar-cds jar-jdk25 jar-jdk25-aot; do
  [ -f "$work/$name.ms" ] || continue
  stats=$(median_range 0 <"$work/$name.ms")
  printf '%-24s %6s  %s\n' "$name" "${stats%% *}" "${stats#* }"
done
# paired A B: the median (min–max) of A's start over B's, start by start: each round starts them one
# after the other, so each pair sees the same machine, which the ratio of two medians does not.
paired() {
  paste -d' ' "$work/$1.ms" "$work/$2.ms" | awk '{print $1 / $2}' | median_range 2
}
echo "template machinery / bare Vert.x, per pair: $(paired template-machinery bare-vertx)"
echo "the same, each with its own archive, per pair:" \
  "$(paired template-machinery-cds bare-vertx-cds)"
echo "template machinery with its class preloading / without, per pair:" \
  "$(paired template-machinery template-no-preload)"
echo "jar with the archive / without, per pair: $(paired jar-cds jar)"
if [ -n "$jdk25" ]; then
  echo "jar on JDK 25 with the AOT cache / without, per pair: $(paired jar-jdk25-aot jar-jdk25)"
fi
