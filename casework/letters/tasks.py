"""The render task on the Huey queue, and the periodic sweep that makes sure no letter is lost."""
from __future__ import annotations

import logging
import time

from flask import current_app, has_app_context
from huey import crontab
from sqlalchemy import select, update

from casework.extensions import db, queue
from casework.models import Case, Letter, utcnow

log = logging.getLogger(__name__)
huey = queue.huey


def render_letter_now(letter_id: int) -> str:
    """Render one letter and store its PDF and SHA-256; returns the new status."""
    from casework.letters.render import render_letter
    from casework.services import instellingen
    from casework.services.letters import revive

    letter = db.session.get(Letter, letter_id)
    if letter is None or letter.status == "rendered":
        return letter.status if letter else "missing"
    kind, context = letter.kind, revive(letter.context)
    logo = instellingen.logo(db.session.scalar(select(Case.gemeente_id).where(Case.id == letter.case_id)))
    db.session.commit()  # no transaction stays open while WeasyPrint works
    started = time.perf_counter()
    try:
        pdf, sha = render_letter(kind, context, logo)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
        db.session.rollback()
        letter = db.session.get(Letter, letter_id)
        letter.attempts += 1
        letter.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        letter.status = "failed"
        letter.queued_at = None  # off the queue: the next sweep retries it while attempts are left
        db.session.commit()
        log.warning("brief %s niet gemaakt (poging %s): %s", letter_id, letter.attempts,
                    type(exc).__name__, extra=_letter_fields(letter_id, kind, started, "failed",
                                                             letter.attempts))
        raise
    # One UPDATE that only a letter not rendered yet matches: when another worker was quicker
    # (the row, not this session's copy of it, says so), its PDF stays.
    attempts = db.session.scalar(
        update(Letter).where(Letter.id == letter_id, Letter.status != "rendered")
        .values(pdf=pdf, sha256=sha, status="rendered", attempts=Letter.attempts + 1,
                last_error=None, rendered_at=utcnow())
        .returning(Letter.attempts), execution_options={"synchronize_session": "fetch"})
    db.session.commit()
    if attempts is None:  # another worker was quicker
        return "rendered"
    log.info("brief %s gemaakt", letter_id,
             extra=_letter_fields(letter_id, kind, started, "rendered", attempts))
    return "rendered"


def _letter_fields(letter_id: int, kind: str, started: float, outcome: str, attempt: int) -> dict:
    return {"letter_id": letter_id, "kind": kind, "outcome": outcome, "attempt": attempt,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1)}


def _app():
    """The app of the caller when there is one (tests, CLI), else the worker's app."""
    return current_app._get_current_object() if has_app_context() else queue.app


# No retries here: the sweep retries a failed letter (once, however many workers run). No result
# is returned, so Huey stores none.
@huey.task(retries=0)
def render_letter_task(letter_id: int) -> None:
    with _app().app_context():
        render_letter_now(letter_id)


@huey.periodic_task(crontab(minute="*"))
def sweep_task() -> None:
    from casework.services.letters import sweep_letters

    with _app().app_context():
        sweep_letters()


@huey.periodic_task(crontab(minute="*"))
def seal_access_log_task() -> None:
    """Seal the closed batches of the access log (services/access_log.py)."""
    from casework.services.access_log import seal_now

    with _app().app_context():
        seal_now()


def enqueue_render(letter_id: int) -> None:
    """Put a render on the queue; if the queue is down the sweep picks the letter up later."""
    try:
        render_letter_task(letter_id)
    except Exception:  # noqa: BLE001
        # The letter keeps its queued_at: the sweep re-queues it once the queue is back and empty.
        log.exception("brief %s niet in de wachtrij gezet; de sweep probeert het opnieuw", letter_id)
