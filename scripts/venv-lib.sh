# shellcheck shell=bash
# Sourced by the scripts that keep a Python venv for the tests (moto-venv.sh,
# schema-venv.sh, anchore-cli-venv.sh, version-reference.sh). A venv is
# stamped with what it was built from, so running a script again is quick and
# rebuilds only when that changed; a lock makes a concurrent run (two test
# binaries at once) wait for the first. Sets `root` (the workspace) and
# `python` (the interpreter that creates venvs: PYTHON, default python3).

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"

# venv_pip VENV PIP-ARGS...: a quiet `pip install` in VENV.
venv_pip() {
    local venv=$1
    shift
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
}

# venv_is_current VENV PROGRAM STAMP: VENV/PROGRAM is there and VENV was built
# from STAMP.
venv_is_current() {
    [[ -x "$1/$2" && -f "$1/.portcullis-requirements" && "$(cat "$1/.portcullis-requirements")" == "$3" ]]
}

# venv_install VENV PROGRAM STAMP REQUIREMENTS [COMMAND...]: (re)builds VENV
# with an up-to-date pip and REQUIREMENTS (one a line), runs COMMAND (more
# installs, or a check that fails now rather than in the tests), and stamps it
# with STAMP once PROGRAM is there. Writes to stderr only; the caller holds the
# lock.
venv_install() {
    local venv=$1 program=$2 stamp=$3 requirements=$4
    shift 4
    {
        rm -f "$venv/.portcullis-requirements"
        [[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
        venv_pip "$venv" --upgrade pip
        # shellcheck disable=SC2086
        venv_pip "$venv" $(echo "$requirements" | tr '\n' ' ')
        "$@"
        test -x "$venv/$program"
    } 1>&2
    printf '%s' "$stamp" >"$venv/.portcullis-requirements"
}

# venv_ensure VENV PROGRAM STAMP REQUIREMENTS [COMMAND...]: venv_install unless
# VENV is current, then prints VENV's path, the only thing on stdout.
venv_ensure() {
    local venv=$1 program=$2 stamp=$3
    if ! venv_is_current "$venv" "$program" "$stamp"; then
        mkdir -p "$(dirname "$venv")"
        exec 9>"$venv.lock"
        flock 9
        # The run that held the lock may have built it meanwhile.
        if ! venv_is_current "$venv" "$program" "$stamp"; then
            venv_install "$@"
        fi
    fi
    echo "$venv"
}
