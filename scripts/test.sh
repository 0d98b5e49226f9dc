#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs the system packages the
# tests need, builds the lab images (real Debian/PyPI/npm images, cached in
# target/lab), then runs every test of the workspace.
#
# Env knobs:
#   PORTCULLIS_SHARED=../shared   shared data (fixtures, feeds, lab scripts)
#   PORTCULLIS_LAB=target/lab     where the lab images are built (reused when present)
#   PORTCULLIS_FEEDS, PORTCULLIS_FIXTURES   default to $PORTCULLIS_SHARED/feeds and /fixtures
#   CARGO_TEST_ARGS="..."         extra arguments for cargo test (e.g. a test name)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export PORTCULLIS_SHARED=${PORTCULLIS_SHARED:-$(realpath -m ../shared)}
export PORTCULLIS_LAB=${PORTCULLIS_LAB:-$(realpath -m target/lab)}
export PORTCULLIS_FIXTURES=${PORTCULLIS_FIXTURES:-$PORTCULLIS_SHARED/fixtures}
export PORTCULLIS_FEEDS=${PORTCULLIS_FEEDS:-$PORTCULLIS_SHARED/feeds}
log() { printf '[test %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# 1. System packages (Debian): a real registry, skopeo to push to it,
#    htpasswd for basic auth, openssl for the token-auth registry, what the lab
#    build uses, and the real programs, jars and binaries that catalogers are
#    checked against (their versions are asked from the tools themselves).
packages=(docker-registry skopeo apache2-utils openssl umoci debootstrap jq curl file rpm
          libcommons-lang3-java libjackson2-core-java
          busybox nginx-light haproxy memcached apache2-bin ruby php-cli redis-server nodejs
          golang-go libpython3.11 openjdk-17-jre-headless
          swift-proxy swift-account swift-container swift-object)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f '${db:Status-Abbrev}' "$package" 2>/dev/null | grep -q '^ii' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  # Services some of these packages bring (nginx, memcached, redis...) are not started: no systemd here.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. Lab images and validators, prepared while cargo compiles the tests.
mkdir -p target
lab_log=target/lab-build.log
log "building lab images into $PORTCULLIS_LAB (log: $lab_log)"
( SKIP_REGISTRY=1 "$PORTCULLIS_SHARED/lab/build.sh" "$PORTCULLIS_LAB" >"$lab_log" 2>&1 ) &
lab_pid=$!
# The official CycloneDX/SPDX/SARIF validators (PyPI), for the format tests,
# and the reference implementations the version schemes are checked against
# (Python packaging, npm's semver).
schema_log=target/schema-venv.log
( ./scripts/schema-venv.sh >"$schema_log" 2>&1 && ./scripts/version-reference.sh >>"$schema_log" 2>&1 ) &
schema_pid=$!
# moto's S3 server, for the object-storage tests (portcullis_testkit::s3).
moto_log=target/moto-venv.log
( ./scripts/moto-venv.sh >"$moto_log" 2>&1 ) &
moto_pid=$!
# The real anchore-cli 0.9.3 (PyPI), driven against `portcullis serve`
# (portcullis_testkit::anchore_cli).
anchore_cli_log=target/anchore-cli-venv.log
( ./scripts/anchore-cli-venv.sh >"$anchore_cli_log" 2>&1 ) &
anchore_cli_pid=$!

log "compiling tests"
compile_status=0
cargo test --workspace --no-run --quiet || compile_status=$?

# Waits for a background setup job; on failure shows the end of its log and stops.
await_setup() {
  local pid=$1 log_file=$2 what=$3 status=0
  wait "$pid" || status=$?
  if [ "$status" != 0 ]; then
    tail -60 "$log_file" >&2
    log "$what failed (exit $status)"
    exit 1
  fi
}
await_setup "$schema_pid" "$schema_log" "validator / reference implementation install"
await_setup "$moto_pid" "$moto_log" "moto venv install"
await_setup "$anchore_cli_pid" "$anchore_cli_log" "anchore-cli venv install"
await_setup "$lab_pid" "$lab_log" "lab build"
[ "$compile_status" = 0 ] || exit "$compile_status"

# 3. Every test.
log "running tests"
# shellcheck disable=SC2086
cargo test --workspace --no-fail-fast ${CARGO_TEST_ARGS:-}
log "all tests passed"
