# What the bench scripts start with, sourced from the project's root: the Debian packages they
# need, the build they measure, and how they start a server from it.

# needs COMMAND=PACKAGE...: installs with apt-get the packages of the commands that are missing,
# and those of PACKAGES (a variable the caller may set for needs other than a command).
needs() {
  local missing=(${PACKAGES:-}) pair
  for pair in "$@"; do
    command -v "${pair%%=*}" >/dev/null || missing+=("${pair#*=}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
}

# median_range DIGITS: the median of the numbers on stdin, one a line, and their range, with DIGITS
# decimals: "1.04 (0.98–1.10)".
median_range() {
  sort -g | awk -v d="$1" '
    {r[NR] = $1}
    END {m = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2; f = "%." d "f"
      printf f " (" f "–" f ")", m, r[1], r[NR]}'
}

# burst PROTOCOL PORT SECONDS [PREFIX...]: GET /hello on 127.0.0.1:PORT for SECONDS, the load
# generator run under PREFIX (taskset -c 0, say): h2 by h2load over h2c (16 connections × 10
# streams), http1 by wrk (32 connections, on one thread, or on two without a PREFIX, when it shares
# every core with the server). Prints the requests that succeeded.
burst() {
  local proto=$1 port=$2 seconds=$3
  shift 3
  if [ "$proto" = h2 ]; then
    "$@" h2load -c16 -m10 -D"$seconds" "http://127.0.0.1:$port/hello" | awk '/^requests:/ {print $8}'
  else
    "$@" wrk -t$(($# > 0 ? 1 : 2)) -c32 -d"${seconds}s" "http://127.0.0.1:$port/hello" |
      awk '/requests in/ {print $1}'
  fi
}

# The package Main is in: the scripts keep working after the package is renamed.
pkg=$(sed -n 's:.*<main.class>\(.*\)\.Main</main.class>.*:\1:p' pom.xml)
if [ ! -f target/service.jar ] || [ ! -d target/test-classes ]; then
  echo "build first: ./mvnw -q package -DskipTests" >&2
  exit 2
fi

# serve LOG PORT INSTANCES CORE MAIN [JAVA_OPTION...]: starts the build's MAIN (of $pkg: TestMain
# or BaselineMain) with the tests' configuration on 127.0.0.1:PORT with INSTANCES event loops,
# pinned to CORE unless it is empty, its output in LOG; waits for its first answer, scrapes it once
# and sets served to its pid. Exits the script, printing LOG, if the server dies first.
serve() {
  local log=$1 port=$2 instances=$3 core=$4 main=$5 pin=()
  shift 5
  [ -n "$core" ] && pin=(taskset -c "$core")
  CONFIG_PATH=src/test/resources/test-config.json HTTP_HOST=127.0.0.1 HTTP_PORT=$port \
    HTTP_INSTANCES=$instances "${pin[@]}" java "$@" -cp target/service.jar:target/test-classes \
    "$pkg.$main" >"$log" 2>&1 &
  served=$!
  until curl -s -o /dev/null "http://127.0.0.1:$port/hello"; do
    kill -0 $served 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.05
  done
  # One scrape, as a Prometheus server's first: the template binds the JVM's meters at it (bare
  # Vert.x answers 404).
  curl -s -o /dev/null "http://127.0.0.1:$port/metrics"
}
