# shellcheck shell=bash
# Shared helpers for scripts/run.sh, test.sh and benchmark.sh. Source, don't execute.

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

# --- throw-away PostgreSQL ----------------------------------------------------
# start_pg DBNAME [-c setting=value ...]: a private server in a temp dir (trust auth, 127.0.0.1
# only) with one empty database; sets PG_PORT and PG_URL (SQLAlchemy URL). Stopped and removed
# on exit.
PG_TMP='' PG_BIN='' PG_PORT='' PG_URL=''
# shellcheck disable=SC2329  # invoked via add_cleanup
stop_pg() {
    [[ -n "$PG_TMP" && -d "$PG_TMP" ]] || return 0
    if [[ -f "$PG_TMP/data/postmaster.pid" ]]; then
        log "Stopping PostgreSQL"
        (cd "$PG_TMP" && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m fast -w -t 30 stop) >/dev/null 2>&1 ||
            (cd "$PG_TMP" && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate -w stop) >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_TMP"
}

port_free() {
    "$VENV/bin/python" -c 'import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)' "$1"
}

start_pg() {
    local dbname=$1
    shift
    local settings="$*"
    PG_BIN="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    [[ -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" ]] || die "PostgreSQL binaries not found in /usr/lib/postgresql/*/bin"
    id postgres >/dev/null 2>&1 || die "system user 'postgres' does not exist"

    PG_TMP="$(mktemp -d /tmp/casework-pg.XXXXXX)"
    add_cleanup stop_pg
    chown postgres:postgres "$PG_TMP"
    chmod 700 "$PG_TMP"

    log "Initialising throw-away PostgreSQL $(basename "$(dirname "$PG_BIN")") in $PG_TMP"
    if ! (cd "$PG_TMP" && runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_TMP/data" \
        --auth=trust -U postgres -E UTF8 --locale=C) >"$PG_TMP/initdb.log" 2>&1; then
        cat "$PG_TMP/initdb.log" >&2
        die "initdb failed"
    fi

    local port started=
    for port in $(seq 54329 54399); do
        port_free "$port" || continue
        : >"$PG_TMP/server.log" && chown postgres:postgres "$PG_TMP/server.log"
        if (cd "$PG_TMP" && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_TMP/data" \
            -l "$PG_TMP/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_TMP $settings" \
            start) >/dev/null 2>&1; then
            started=1
            break
        fi
        # Lost a race for the port? Try the next one; otherwise give up.
        grep -qiE 'could not bind|address already in use|could not create any TCP/IP sockets' "$PG_TMP/server.log" || break
    done
    if [[ -z "$started" ]]; then
        tail -n 30 "$PG_TMP/server.log" >&2 || true
        die "could not start PostgreSQL"
    fi
    PG_PORT=$port

    "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$dbname" ||
        die "createdb $dbname failed"
    PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/$dbname"
    log "PostgreSQL listening on 127.0.0.1:$PG_PORT (database $dbname)"
}

# create_pg_roles OWNER APP: the two-role set-up on the server start_pg started. OWNER owns the
# database (migrations, CREATE DATABASE for tests that need their own); APP is what the app
# connects as: scripts and tests grant it only SELECT/INSERT on the audit tables. Sets
# PG_OWNER_URL (PG_URL as OWNER).
PG_OWNER_URL=''
create_pg_roles() {
    local owner=$1 app=$2 dbname=${PG_URL##*/}
    "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -q -v ON_ERROR_STOP=1 <<SQL ||
CREATE ROLE "$owner" LOGIN CREATEDB;
CREATE ROLE "$app" LOGIN;
GRANT pg_signal_backend TO "$owner";
ALTER DATABASE "$dbname" OWNER TO "$owner";
SQL
        die "creating the PostgreSQL roles $owner and $app failed"
    PG_OWNER_URL="postgresql+psycopg://$owner@127.0.0.1:$PG_PORT/$dbname"
    log "PostgreSQL roles: $owner (owner, migrates) and $app (the app)"
}
