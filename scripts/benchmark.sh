#!/usr/bin/env bash
# Scale benchmark: generate synthetic cases into a fresh SQLite file and into a throw-away
# PostgreSQL server, then time the leerplichttelling, the SWV view, the DUO export, the LPA work
# list and the name search on each (scripts/benchmark.py: median of 5 runs).
#   ./scripts/benchmark.sh [CASES]            default 1000000
# BENCHMARK_SEED (default 1), BENCHMARK_RUNS (default 5), BENCHMARK_SKIP_SQLITE=1,
# BENCHMARK_SKIP_PG=1, BENCHMARK_DIR (where the SQLite file goes; default a temp dir that is
# removed afterwards), BENCHMARK_COLD=1 (as root: empty the page cache before each first run). Not part of the test suite: a million cases take a while and ~6 GB disk.
set -euo pipefail
# shellcheck source=scripts/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
cd "$ROOT"

CASES="${1:-1000000}"
SEED="${BENCHMARK_SEED:-1}"
RUNS="${BENCHMARK_RUNS:-5}"
[[ "$CASES" =~ ^[0-9]+$ ]] || die "usage: $0 [CASES]"

ensure_apt_packages postgresql
ensure_venv

# Never touch a configured database: each run gets its own.
unset CASEWORK_DATABASE_URL CASEWORK_TEST_DATABASE_URL
export CASEWORK_ENV=development CASEWORK_QUEUE_BACKEND=memory
FLASK=("$VENV/bin/flask" --app casework)

run_benchmark() { # run_benchmark LABEL DATABASE_URL
    local label=$1 started
    export CASEWORK_DATABASE_URL=$2
    log "$label: migrations and demo data"
    "${FLASK[@]}" db upgrade >/dev/null
    "${FLASK[@]}" demo >/dev/null
    log "$label: generating $CASES cases (seed $SEED)"
    started=$SECONDS
    "${FLASK[@]}" generate --cases "$CASES" --seed "$SEED"
    log "$label: generated in $((SECONDS - started)) s (wall clock, including ANALYZE)"
    log "$label: timing the queries"
    "$VENV/bin/python" scripts/benchmark.py --runs "$RUNS" --label "$label" \
        ${BENCHMARK_COLD:+--cold}
    unset CASEWORK_DATABASE_URL
}

if [[ "${BENCHMARK_SKIP_SQLITE:-}" != 1 ]]; then
    if [[ -n "${BENCHMARK_DIR:-}" ]]; then
        mkdir -p "$BENCHMARK_DIR"
        DB_DIR="$(cd "$BENCHMARK_DIR" && pwd)"
    else
        DB_DIR="$(mktemp -d /tmp/casework-bench.XXXXXX)"
        # shellcheck disable=SC2329  # invoked via add_cleanup
        remove_db_dir() { rm -rf "$DB_DIR"; }
        add_cleanup remove_db_dir
    fi
    rm -f "$DB_DIR/benchmark.db" "$DB_DIR/benchmark.db-wal" "$DB_DIR/benchmark.db-shm"
    run_benchmark SQLite "sqlite:///$DB_DIR/benchmark.db"
fi

if [[ "${BENCHMARK_SKIP_PG:-}" != 1 ]]; then
    # PostgreSQL's default settings (durable, 128 MB shared_buffers): nothing tuned for speed.
    start_pg casework_bench
    run_benchmark PostgreSQL "$PG_URL"
fi
