#!/usr/bin/env bash
# Creates (or reuses) the Python venv holding moto's S3 server, the S3 peer of
# the object-storage tests (crates/portcullis-objstore, portcullis_testkit::s3),
# and prints its path. moto installs in about a minute; s3s-fs would take four
# minutes of compiling.
#
# Idempotent and quick when the venv is already there: the requirement list is
# stamped inside the venv and nothing is installed unless it changed.
# Environment: PYTHON (default python3), PORTCULLIS_MOTO_VENV (venv path,
# default <workspace>/target/moto-venv). Only stdout carries the path.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${PORTCULLIS_MOTO_VENV:-$root/target/moto-venv}"
python="${PYTHON:-python3}"

requirements="moto[server]==5.2.5"

stamp="$venv/.portcullis-requirements"
if [[ -x "$venv/bin/moto_server" && -f "$stamp" && "$(cat "$stamp")" == "$requirements" ]]; then
    echo "$venv"
    exit 0
fi

mkdir -p "$(dirname "$venv")"
# A concurrent run (two test binaries at once) waits for the first to finish.
exec 9>"$venv.lock"
flock 9
if [[ -x "$venv/bin/moto_server" && -f "$stamp" && "$(cat "$stamp")" == "$requirements" ]]; then
    echo "$venv"
    exit 0
fi

{
    rm -f "$stamp"
    [[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $(echo "$requirements" | tr '\n' ' ')
    # Fail now, not in the tests, if the server cannot start.
    "$venv/bin/python" -c 'import moto.server, boto3'
    test -x "$venv/bin/moto_server"
} 1>&2
printf '%s' "$requirements" >"$stamp"
echo "$venv"
