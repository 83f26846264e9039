#!/usr/bin/env bash
# Scale benchmark: for each size, generate synthetic cases into a SQLite file and into a
# PostgreSQL database, then run scripts/benchmark.py on each: the report timings (median of
# BENCHMARK_RUNS), and casework against the floor over HTTP (fire at 4 and 16 connections, work
# list and search at 1 and 16 users, letters when scripts/bench_letters.py exists) as ratios
# with the goals of the performance issue.
#   ./scripts/benchmark.sh [CASES ...]        default 1000000; e.g. 10000 100000 1000000 (or 10k 100k 1m)
# BENCHMARK_SEED (default 1), BENCHMARK_RUNS (default 5), BENCHMARK_SKIP_SQLITE=1,
# BENCHMARK_SKIP_PG=1, BENCHMARK_DIR (where the SQLite files casework-<size>.db go; default a
# temp dir that is removed afterwards), BENCHMARK_REUSE=1 (keep a casework-<size>.db or
# bench<size> database that already holds synthetic data instead of generating it again),
# BENCHMARK_PG_URL (an existing PostgreSQL server as its owner role, e.g.
# postgresql+psycopg://owner@127.0.0.1:5432, with BENCHMARK_PG_APP_ROLE the role the app runs
# as: databases bench<size> there; default a throw-away server with roles bench_owner and
# bench_app), BENCHMARK_ARGS (more options for benchmark.py, e.g. "--skip-reports --rounds 5"),
# BENCHMARK_JSON_DIR (write <backend>-<size>.json there), BENCHMARK_COLD=1 (as root: empty the
# page cache before each first run). Not part of the test suite: a million cases take about
# 22 minutes to generate on 2 cores (idle) and about 13 GB disk for both databases (SQLite
# 6.1 GB, PostgreSQL 6.4 GB; docs/performance.md).
set -euo pipefail
# shellcheck source=scripts/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
cd "$ROOT"

SEED="${BENCHMARK_SEED:-1}"
RUNS="${BENCHMARK_RUNS:-5}"
[[ $# -gt 0 ]] || set -- 1000000
SIZES=()
for arg in "$@"; do
    case "${arg,,}" in
        *k) n="${arg%[kK]}000" ;;
        *m) n="${arg%[mM]}000000" ;;
        *) n=$arg ;;
    esac
    [[ "$n" =~ ^[0-9]+$ ]] || die "usage: $0 [CASES ...]   (a number, or 10k, 1m)"
    SIZES+=("$n")
done

size_label() { # 10000 -> 10k, 1000000 -> 1m
    local n=$1
    if ((n % 1000000 == 0)); then echo "$((n / 1000000))m"
    elif ((n % 1000 == 0)); then echo "$((n / 1000))k"
    else echo "$n"; fi
}

ensure_apt_packages postgresql
ensure_venv

# Never touch a configured database: each run gets its own.
unset CASEWORK_DATABASE_URL CASEWORK_TEST_DATABASE_URL CASEWORK_MIGRATION_DATABASE_URL \
    CASEWORK_DATABASE_APP_ROLE
export CASEWORK_ENV=development CASEWORK_QUEUE_BACKEND=memory
# The code of this tree, also where the venv holds an editable install of another checkout.
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
FLASK=("$VENV/bin/flask" --app casework)
read -r -a EXTRA_ARGS <<<"${BENCHMARK_ARGS:-}"

has_synthetic_data() { # has_synthetic_data URL: the database holds SYN- cases already
    CASEWORK_DATABASE_URL=$1 "$VENV/bin/python" - <<'PY' 2>/dev/null
import sys
from sqlalchemy import create_engine, text
import os
engine = create_engine(os.environ["CASEWORK_DATABASE_URL"])
try:
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM cases WHERE reference LIKE 'SYN-%'")).scalar()
except Exception:
    sys.exit(1)
sys.exit(0 if n else 1)
PY
}

generate() { # generate LABEL OWNER_URL CASES [APP_ROLE]
    local label=$1 url=$2 cases=$3 role=${4:-} started
    log "$label: migrations and demo organisations and users (no demo cases)"
    CASEWORK_DATABASE_URL=$url CASEWORK_DATABASE_APP_ROLE=$role "${FLASK[@]}" db upgrade >/dev/null
    CASEWORK_DATABASE_URL=$url "${FLASK[@]}" demo --zonder-zaken >/dev/null
    log "$label: generating $cases cases (seed $SEED)"
    started=$SECONDS
    CASEWORK_DATABASE_URL=$url "${FLASK[@]}" generate --cases "$cases" --seed "$SEED"
    [[ -z "$role" ]] || CASEWORK_DATABASE_URL=$url CASEWORK_DATABASE_APP_ROLE=$role \
        "${FLASK[@]}" db upgrade >/dev/null  # the app role's rights on what generate made
    log "$label: generated in $((SECONDS - started)) s (wall clock, including ANALYZE)"
}

run_benchmark() { # run_benchmark LABEL APP_URL CASES FILE_STEM
    local label=$1 json=()
    [[ -z "${BENCHMARK_JSON_DIR:-}" ]] || { mkdir -p "$BENCHMARK_JSON_DIR"; json=(--json "$BENCHMARK_JSON_DIR/$4.json"); }
    log "$label: timing"
    CASEWORK_DATABASE_URL=$2 "$VENV/bin/python" scripts/benchmark.py --runs "$RUNS" \
        --label "$label" --cases "$3" ${BENCHMARK_COLD:+--cold} "${json[@]}" "${EXTRA_ARGS[@]}"
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
    for cases in "${SIZES[@]}"; do
        name="casework-$(size_label "$cases")"
        url="sqlite:///$DB_DIR/$name.db"
        if [[ "${BENCHMARK_REUSE:-}" == 1 ]] && has_synthetic_data "$url"; then
            log "SQLite $name: reusing $DB_DIR/$name.db (migrated to this code first)"
            CASEWORK_DATABASE_URL=$url "${FLASK[@]}" db upgrade >/dev/null
        else
            rm -f "$DB_DIR/$name.db" "$DB_DIR/$name.db-wal" "$DB_DIR/$name.db-shm"
            generate "SQLite $name" "$url" "$cases"
        fi
        run_benchmark "SQLite $(size_label "$cases")" "$url" "$cases" "sqlite-$(size_label "$cases")"
    done
fi

if [[ "${BENCHMARK_SKIP_PG:-}" != 1 ]]; then
    if [[ -n "${BENCHMARK_PG_URL:-}" ]]; then
        PG_BASE=${BENCHMARK_PG_URL%/}
        PG_BASE=${PG_BASE%/postgres}
        APP_ROLE=${BENCHMARK_PG_APP_ROLE:?BENCHMARK_PG_APP_ROLE: the role the app runs as}
    else
        # PostgreSQL's default settings (durable, 128 MB shared_buffers): nothing tuned for speed.
        start_pg bench_setup
        create_pg_roles bench_owner bench_app
        PG_BASE=${PG_OWNER_URL%/*}
        APP_ROLE=bench_app
    fi
    owner=${PG_BASE#*://}; owner=${owner%%@*}
    for cases in "${SIZES[@]}"; do
        dbname="bench$(size_label "$cases")"
        owner_url="$PG_BASE/$dbname"
        app_url="${PG_BASE/\/\/$owner@/\/\/$APP_ROLE@}/$dbname"
        if [[ "${BENCHMARK_REUSE:-}" == 1 ]] && has_synthetic_data "$owner_url"; then
            log "PostgreSQL $dbname: reusing it (migrated to this code first)"
            CASEWORK_DATABASE_URL=$owner_url CASEWORK_DATABASE_APP_ROLE=$APP_ROLE \
                "${FLASK[@]}" db upgrade >/dev/null
        else
            "$VENV/bin/python" - "$PG_BASE/postgres" "$dbname" "$owner" <<'PY'
import sys
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1], isolation_level="AUTOCOMMIT")
with engine.connect() as conn:
    conn.execute(text(f'DROP DATABASE IF EXISTS "{sys.argv[2]}"'))
    conn.execute(text(f'CREATE DATABASE "{sys.argv[2]}" OWNER "{sys.argv[3]}"'))
PY
            generate "PostgreSQL $dbname" "$owner_url" "$cases" "$APP_ROLE"
        fi
        run_benchmark "PostgreSQL $(size_label "$cases")" "$app_url" "$cases" "postgresql-$(size_label "$cases")"
    done
fi
