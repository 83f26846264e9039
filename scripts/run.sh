#!/usr/bin/env bash
# Start casework locally: demo data, letter worker (background) and web server.
#   ./scripts/run.sh
# Environment: CASEWORK_ENV (default development here; without it the app itself runs as
# production), CASEWORK_DATABASE_URL (optional; the app's default database is used when
# unset), CASEWORK_PORT (default 5000).
set -euo pipefail
# shellcheck source=scripts/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
cd "$ROOT"

HOST=127.0.0.1
PORT="${CASEWORK_PORT:-5000}"
export CASEWORK_ENV="${CASEWORK_ENV:-development}"

ensure_apt_packages "${WEASYPRINT_PACKAGES[@]}"
ensure_venv

FLASK=("$VENV/bin/flask" --app casework)

if [[ -n "${CASEWORK_DATABASE_URL:-}" ]]; then
    export CASEWORK_DATABASE_URL
    # Don't echo a password.
    log "Database: $(sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#' <<<"$CASEWORK_DATABASE_URL")"
else
    log "Database: application default (CASEWORK_DATABASE_URL not set)"
fi

log "Applying database migrations"
"${FLASK[@]}" db upgrade

log "Loading demo data"
"${FLASK[@]}" demo

WORKER_PID=
stop_worker() {
    [[ -n "$WORKER_PID" ]] || return 0
    kill -0 "$WORKER_PID" 2>/dev/null || return 0
    log "Stopping letter worker (pid $WORKER_PID)"
    kill -TERM "$WORKER_PID" 2>/dev/null
    for _ in $(seq 1 50); do
        kill -0 "$WORKER_PID" 2>/dev/null || return 0
        sleep 0.2
    done
    kill -KILL "$WORKER_PID" 2>/dev/null
}
add_cleanup stop_worker

log "Starting letter worker in the background"
"${FLASK[@]}" worker &
WORKER_PID=$!

log "Casework running at http://$HOST:$PORT/ (CASEWORK_ENV=$CASEWORK_ENV)"
log "Demo login: leerplicht@voorbeeldstad.test / password: demo"
log "Press Ctrl-C to stop"
"${FLASK[@]}" run --host "$HOST" --port "$PORT"
