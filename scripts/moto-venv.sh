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

source "$(dirname "${BASH_SOURCE[0]}")/venv-lib.sh"
venv="${PORTCULLIS_MOTO_VENV:-$root/target/moto-venv}"

requirements="moto[server]==5.2.5"

# The import fails now, not in the tests, if the server cannot start.
venv_ensure "$venv" bin/moto_server "$requirements" "$requirements" "$venv/bin/python" -c 'import moto.server, boto3'
