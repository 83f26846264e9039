#!/usr/bin/env bash
# Run the test suite on SQLite, then on a throw-away PostgreSQL server.
#   ./scripts/test.sh [pytest args...]     e.g. ./scripts/test.sh -x -k policy
# CASEWORK_TEST_SKIP_PG=1 skips the PostgreSQL run.
set -euo pipefail
# shellcheck source=scripts/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
cd "$ROOT"

ensure_apt_packages "${WEASYPRINT_PACKAGES[@]}" poppler-utils chromium postgresql redis-server
ensure_venv

export CASEWORK_CHROMIUM="${CASEWORK_CHROMIUM:-/usr/bin/chromium}"
# Production is the default without CASEWORK_ENV; the tests run with the test settings.
export CASEWORK_ENV=test
# Never let the tests touch a database configured for run.sh or elsewhere: the
# SQLite run uses the tests' own temp DB, the PostgreSQL run our own server.
unset CASEWORK_DATABASE_URL CASEWORK_TEST_DATABASE_URL CASEWORK_TEST_APP_ROLE \
    CASEWORK_MIGRATION_DATABASE_URL CASEWORK_DATABASE_APP_ROLE

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

# --- run ---------------------------------------------------------------------
SQLITE_RC=0 PG_RC=0 PG_SUMMARY="skipped (CASEWORK_TEST_SKIP_PG=1)"

run_pytest SQLite "$@"
SQLITE_RC=$PYTEST_RC
SQLITE_SUMMARY="$(describe_rc "$SQLITE_RC")"

if [[ "${CASEWORK_TEST_SKIP_PG:-}" != 1 ]]; then
    # Durability off: the test database is thrown away anyway.
    start_pg casework_test -c fsync=off -c synchronous_commit=off -c full_page_writes=off
    # Two roles, as in production: the tests migrate as the owner and the app connects as
    # casework_app, which may only SELECT and INSERT on the audit tables.
    create_pg_roles casework_owner casework_app
    export CASEWORK_TEST_DATABASE_URL="$PG_OWNER_URL" CASEWORK_TEST_APP_ROLE=casework_app
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
