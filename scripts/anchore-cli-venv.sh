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

source "$(dirname "${BASH_SOURCE[0]}")/venv-lib.sh"
venv="${PORTCULLIS_ANCHORE_CLI_VENV:-$root/target/anchore-cli-venv}"

requirements="Click==8.0.1
prettytable==2.2.0
python-dateutil==2.8.2
PyYAML==6.0.2
requests==2.26.0
six==1.16.0
urllib3==1.26.6"
package="anchorecli==0.9.3"

install_anchore_cli() {
    venv_pip "$venv" --no-deps "$package"
    # Fail now, not in the tests, if the command does not start.
    "$venv/bin/anchore-cli" --version
}

venv_ensure "$venv" bin/anchore-cli "$requirements
$package" "$requirements" install_anchore_cli
