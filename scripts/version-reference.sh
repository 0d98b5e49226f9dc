#!/usr/bin/env bash
# Installs the reference implementations that crates/portcullis-version's
# tests compare every generated case against:
#
#   packaging   (PyPI) PEP 440 Version and SpecifierSet, in a venv
#   semver      (npm)  node-semver, the range semantics npm itself uses
#
# Idempotent and quick when both are already there: the venv stamps the
# requirement it was built with, and npm's own package.json gives the installed
# version. Environment: PYTHON (default python3), PORTCULLIS_VERSION_REF (the
# directory holding version-ref-venv/ and version-ref-node/, default
# <workspace>/target), the same variable the tests read.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/venv-lib.sh"
base="${PORTCULLIS_VERSION_REF:-$root/target}"
venv="$base/version-ref-venv"
node_prefix="$base/version-ref-node"

python_requirement="packaging==24.2"
node_package="semver"
node_version="7.6.3"

node_ready() {
    local manifest="$node_prefix/node_modules/$node_package/package.json"
    [[ -f "$manifest" ]] &&
        node -e 'process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)' "$manifest" "$node_version"
}

if venv_is_current "$venv" bin/python "$python_requirement" && node_ready; then
    exit 0
fi

mkdir -p "$base"
# Two test binaries may run this at once: the second waits for the first.
exec 9>"$base/version-ref.lock"
flock 9

if ! venv_is_current "$venv" bin/python "$python_requirement"; then
    venv_install "$venv" bin/python "$python_requirement" "$python_requirement" \
        "$venv/bin/python" -c 'import packaging.version, packaging.specifiers'
fi

if ! node_ready; then
    npm install --silent --no-audit --no-fund --prefix "$node_prefix" "$node_package@$node_version" >&2
    node_ready
fi
