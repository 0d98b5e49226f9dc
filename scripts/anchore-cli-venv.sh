#!/usr/bin/env bash
# Creates (or reuses) the Python venv holding the real anchore-cli 0.9.3 from
# PyPI, which crates/portcullis-cli/tests and the service tests drive against
# `portcullis serve` (portcullis_testkit::anchore_cli), and prints its path.
#
# anchore-cli 0.9.3 pins PyYAML==5.4.1, which no longer builds on Python 3.11,
# so its other pins are installed as they are, PyYAML 6 in place of 5.4.1 (it
# only uses yaml.safe_load/safe_dump), and anchorecli itself with --no-deps.
#
# Idempotent and quick when the venv is already there: the requirement list is
# stamped inside the venv and nothing is installed unless it changed.
# Environment: PYTHON (default python3), PORTCULLIS_ANCHORE_CLI_VENV (venv
# path, default <workspace>/target/anchore-cli-venv). Only stdout carries the path.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${PORTCULLIS_ANCHORE_CLI_VENV:-$root/target/anchore-cli-venv}"
python="${PYTHON:-python3}"

requirements="Click==8.0.1
prettytable==2.2.0
python-dateutil==2.8.2
PyYAML==6.0.2
requests==2.26.0
six==1.16.0
urllib3==1.26.6"
package="anchorecli==0.9.3"

stamp="$venv/.portcullis-requirements"
wanted="$requirements
$package"
if [[ -x "$venv/bin/anchore-cli" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
    echo "$venv"
    exit 0
fi

mkdir -p "$(dirname "$venv")"
# A concurrent run (two test binaries at once) waits for the first to finish.
exec 9>"$venv.lock"
flock 9
if [[ -x "$venv/bin/anchore-cli" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
    echo "$venv"
    exit 0
fi

{
    rm -f "$stamp"
    [[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $(echo "$requirements" | tr '\n' ' ')
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$package"
    # Fail now, not in the tests, if the command does not start.
    "$venv/bin/anchore-cli" --version
} 1>&2
printf '%s' "$wanted" >"$stamp"
echo "$venv"
