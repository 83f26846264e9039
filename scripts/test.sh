#!/usr/bin/env bash
# Run the test suite on SQLite, then on a throw-away PostgreSQL server.
#   ./scripts/test.sh [pytest args...]     e.g. ./scripts/test.sh -x -k policy
# CASEWORK_TEST_SKIP_PG=1 skips the PostgreSQL run.
set -euo pipefail
# shellcheck source=scripts/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
cd "$ROOT"

ensure_apt_packages "${WEASYPRINT_PACKAGES[@]}" poppler-utils chromium postgresql
ensure_venv

export CASEWORK_CHROMIUM="${CASEWORK_CHROMIUM:-/usr/bin/chromium}"
# Never let the tests touch a database configured for run.sh or elsewhere: the
# SQLite run uses the tests' own temp DB, the PostgreSQL run our own server.
unset CASEWORK_DATABASE_URL CASEWORK_TEST_DATABASE_URL

describe_rc() {
    case "$1" in
        0) echo "passed" ;;
        1) echo "FAILED (exit 1: test failures or errors)" ;;
        2) echo "FAILED (exit 2: interrupted)" ;;
        3) echo "FAILED (exit 3: internal error)" ;;
        4) echo "FAILED (exit 4: usage error)" ;;
        5) echo "FAILED (exit 5: no tests collected)" ;;
        *) echo "FAILED (exit $1)" ;;
    esac
}

run_pytest() { # run_pytest LABEL [pytest args...]; sets PYTEST_RC
    local label=$1
    shift
    log "Running pytest on $label"
    PYTEST_RC=0
    "$VENV/bin/python" -m pytest "$@" || PYTEST_RC=$?
    log "$label: $(describe_rc "$PYTEST_RC")"
}

# --- throw-away PostgreSQL ----------------------------------------------------
PG_TMP='' PG_BIN=''
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

start_pg() { # sets PG_PORT and exports CASEWORK_TEST_DATABASE_URL
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
            -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_TMP -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
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

    "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres casework_test ||
        die "createdb casework_test failed"
    export CASEWORK_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/casework_test"
    log "PostgreSQL listening on 127.0.0.1:$PG_PORT (database casework_test)"
}

# --- run ---------------------------------------------------------------------
SQLITE_RC=0 PG_RC=0 PG_SUMMARY="skipped (CASEWORK_TEST_SKIP_PG=1)"

run_pytest SQLite "$@"
SQLITE_RC=$PYTEST_RC
SQLITE_SUMMARY="$(describe_rc "$SQLITE_RC")"

if [[ "${CASEWORK_TEST_SKIP_PG:-}" != 1 ]]; then
    start_pg
    run_pytest PostgreSQL "$@"
    PG_RC=$PYTEST_RC
    PG_SUMMARY="$(describe_rc "$PG_RC")"
fi

echo
echo "Summary:"
echo "  SQLite:     $SQLITE_SUMMARY"
echo "  PostgreSQL: $PG_SUMMARY"

if [[ $SQLITE_RC -ne 0 ]]; then exit "$SQLITE_RC"; fi
exit "$PG_RC"
