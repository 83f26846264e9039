# shellcheck shell=bash
# Shared helpers for scripts/run.sh and scripts/test.sh. Source, don't execute.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

log() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- cleanup on exit ---------------------------------------------------------
# Register functions with add_cleanup; they run in reverse order on any exit,
# including Ctrl-C / SIGTERM. The script's exit status is preserved.
_CLEANUPS=()
add_cleanup() { _CLEANUPS+=("$1"); }
_run_cleanups() {
    local rc=$? i
    set +e
    trap - EXIT INT TERM HUP
    for ((i = ${#_CLEANUPS[@]} - 1; i >= 0; i--)); do
        "${_CLEANUPS[i]}"
    done
    exit "$rc"
}
trap _run_cleanups EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- system packages ---------------------------------------------------------
pkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# ensure_apt_packages PKG...: install (after one apt-get update) only the missing ones.
ensure_apt_packages() {
    local missing=() p sudo=() out
    for p in "$@"; do
        pkg_installed "$p" || missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0

    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 ||
            die "missing system packages (${missing[*]}); run as root or install them with apt-get"
        sudo=(sudo)
    fi
    log "Installing system packages: ${missing[*]}"
    out="$(mktemp)"
    if ! { "${sudo[@]}" apt-get update -qq &&
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}"; } >"$out" 2>&1 </dev/null; then
        tail -n 40 "$out" >&2
        rm -f "$out"
        die "apt-get install failed"
    fi
    rm -f "$out"
}

# shellcheck disable=SC2034  # used by run.sh and test.sh
WEASYPRINT_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core)

# --- Python venv -------------------------------------------------------------
# ensure_venv: .venv with the project installed editable, including [test].
# pip is skipped when pyproject.toml and the interpreter are unchanged since
# the last successful install.
ensure_venv() {
    local spec='.[test]' stamp="$VENV/.casework-install-stamp" want
    if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
        log "Creating virtualenv in .venv"
        rm -rf "$VENV"
        python3 -m venv "$VENV"
    fi
    want="$( { cat "$ROOT/pyproject.toml"; echo "$spec"; "$VENV/bin/python" -c 'import sys; print(sys.version)'; } |
        sha256sum | cut -d' ' -f1)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] &&
        "$VENV/bin/python" -I -c 'import importlib.metadata as m; m.version("casework")' >/dev/null 2>&1; then
        log "Python environment up to date (.venv)"
        return 0
    fi
    log "Installing the project into .venv (pip install -e '$spec')"
    rm -f "$stamp"
    (cd "$ROOT" && "$VENV/bin/pip" install -q -e "$spec")
    echo "$want" >"$stamp"
}
