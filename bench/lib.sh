# What the bench scripts start with, sourced from the project's root: the Debian packages they
# need, and the build they measure.

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

# The package Main is in: the scripts keep working after the package is renamed.
pkg=$(sed -n 's:.*<main.class>\(.*\)\.Main</main.class>.*:\1:p' pom.xml)
if [ ! -f target/service.jar ] || [ ! -d target/test-classes ]; then
  echo "build first: ./mvnw -q package -DskipTests" >&2
  exit 2
fi
