"""Letters: recorded with the event, enqueued only after commit, rendered to a PDF, never lost."""
from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from casework import policy
from casework.extensions import db, queue
from casework.letters import render
from casework.letters.tasks import render_letter_now
from casework.models import Case, Letter
from casework.services.cases import commit, fire
from casework.services.letters import sweep_letters
from conftest import render_pending
from factories import event_actor, event_data, letters_of, make_case, stored_case


def _pdf_text(pdf: bytes) -> str:
    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", " ", text)


def _queued_letter_ids() -> list[int]:
    return sorted(task.args[0] for task in queue.huey.pending())


def _fire(demo, case, event, **kwargs):
    fire(case, event, actor=event_actor(demo, case, event), data=event_data(demo, case, event, **kwargs))


# ------------------------------------------------------------------ enqueue after commit

def test_letters_are_enqueued_only_after_commit(demo):
    case = make_case(demo, "kennisgeving_ontvangen")
    queue.huey.flush()
    _fire(demo, case, "neem_in_behandeling")
    new_ids = [x.id for x in letters_of(case.id) if x.audit_seq == 2]
    assert len(new_ids) == 2  # ouder and deskundige
    assert queue.huey.pending_count() == 0, "a render was queued before the transaction committed"
    commit()
    assert queue.huey.pending_count() == 2
    assert _queued_letter_ids() == sorted(new_ids)


def test_rolled_back_letters_are_never_enqueued(demo):
    case = make_case(demo, "kennisgeving_ontvangen")
    queue.huey.flush()
    _fire(demo, case, "neem_in_behandeling")
    db.session.rollback()
    assert queue.huey.pending_count() == 0
    # A later, unrelated commit does not pick up the forgotten letters either.
    other = make_case(demo, "kennisgeving_ontvangen", child=demo.lotte)
    assert _queued_letter_ids() == [x.id for x in letters_of(other.id)]
    assert letters_of(case.id)[-1].kind == "v5a_ontvangstbevestiging"


# ------------------------------------------------------------------ rendering

def test_worker_renders_a_pdf_with_its_sha256_and_the_facts(demo):
    case = make_case(demo, "kennisgeving_ontvangen")
    case_id, reference = case.id, case.reference
    [task] = queue.huey.pending()
    queue.huey.execute(queue.huey.dequeue())  # what the Huey consumer does
    assert task.args == (letters_of(case_id)[0].id,)
    letter = db.session.scalar(select(Letter).where(Letter.case_id == case_id))
    assert (letter.status, letter.attempts, letter.last_error) == ("rendered", 1, None)
    assert letter.rendered_at is not None
    assert letter.pdf.startswith(b"%PDF")
    assert hashlib.sha256(letter.pdf).hexdigest() == letter.sha256
    text = _pdf_text(letter.pdf)
    assert "Sam Jansen" in text
    assert reference in text
    assert "Gemeente Voorbeeldstad" in text
    assert "Petra Jansen" in text  # addressed to the parent


def test_every_letter_of_a_full_case_renders(demo):
    case = make_case(demo, "beeindigd", toestemming=True)
    assert set(render_pending()) == {"rendered"}
    letters = letters_of(case.id)
    assert len(letters) == 9
    for letter in letters:
        assert letter.status == "rendered", letter.kind
        assert hashlib.sha256(letter.pdf).hexdigest() == letter.sha256
        text = _pdf_text(letter.pdf)
        assert case.reference in text and "Gemeente Voorbeeldstad" in text, letter.kind


CHILD_IDENTITY = (r"\bSam\b", r"\bJansen\b", r"14 maart 2017", r"2017", r"100023757",
                  r"Basisschool De Voorbeeld", r"Lindelaan", r"1234 AC")


def _swv_letter(case) -> Letter:
    [letter] = [x for x in letters_of(case.id) if x.recipient_role == "swv"]
    return letter


def test_swv_letter_without_consent_holds_no_child_identity(demo):
    case = make_case(demo, "advies_gevraagd", toestemming=False)
    letter = _swv_letter(case)
    assert letter.context["kind"] is None
    render_letter_now(letter.id)
    letter = db.session.get(Letter, letter.id)
    text = _pdf_text(letter.pdf)
    # The SWV can still refer to the request, by the round's own kenmerk: the case's would tie
    # this anonymous request to an earlier one that named the child.
    assert policy.swv_round_reference(case) in text
    assert case.reference not in text
    for pattern in CHILD_IDENTITY:
        assert not re.search(pattern, text), f"{pattern!r} in the anonymous SWV letter"


def test_swv_letter_with_consent_names_the_child(demo):
    case = make_case(demo, "advies_gevraagd", toestemming=True)
    letter = _swv_letter(case)
    render_letter_now(letter.id)
    text = _pdf_text(db.session.get(Letter, letter.id).pdf)
    assert "Sam Jansen" in text
    assert "14 maart 2017" in text


# ------------------------------------------------------------------ failures and the sweep

def test_render_failure_is_recorded_and_a_later_sweep_renders_it(demo, monkeypatch):
    case = make_case(demo, "kennisgeving_ontvangen")
    [letter] = letters_of(case.id)
    state_before = stored_case(case.id)

    def broken(kind, context, logo=None):
        raise RuntimeError("WeasyPrint is stuk")

    monkeypatch.setattr(render, "render_letter", broken)
    with pytest.raises(RuntimeError):
        render_letter_now(letter.id)
    letter = db.session.get(Letter, letter.id)
    assert (letter.status, letter.attempts, letter.pdf) == ("failed", 1, None)
    assert "WeasyPrint is stuk" in letter.last_error
    assert stored_case(case.id) == state_before  # rendering never touches the case

    monkeypatch.undo()
    queue.huey.flush()
    assert sweep_letters(older_than_seconds=0) == [letter.id]
    assert db.session.get(Letter, letter.id).status == "pending"
    assert _queued_letter_ids() == [letter.id]
    assert render_letter_now(letter.id) == "rendered"
    letter = db.session.get(Letter, letter.id)
    assert (letter.status, letter.attempts, letter.last_error) == ("rendered", 2, None)
    assert hashlib.sha256(letter.pdf).hexdigest() == letter.sha256


def test_sweep_requeues_letters_left_pending(demo):
    case = make_case(demo, "in_behandeling")
    pending = sorted(x.id for x in letters_of(case.id))
    queue.huey.flush()  # the queue lost them (a crash, a restart of the broker)
    assert sweep_letters(older_than_seconds=3600) == []  # too fresh: the worker may still come
    assert sorted(sweep_letters(older_than_seconds=0)) == pending
    assert _queued_letter_ids() == pending


def test_sweep_skips_rendered_and_exhausted_letters(app, demo):
    case = make_case(demo, "in_behandeling")
    first, second, third = letters_of(case.id)
    render_letter_now(first.id)
    db.session.execute(update(Letter).where(Letter.id == second.id)
                       .values(status="failed", attempts=app.config["LETTER_MAX_ATTEMPTS"]))
    commit()
    queue.huey.flush()
    assert sweep_letters(older_than_seconds=0) == [third.id]


def test_each_letter_is_queued_once_however_many_sweeps_run(demo):
    case = make_case(demo, "in_behandeling")
    pending = sorted(x.id for x in letters_of(case.id))
    assert sorted(_queued_letter_ids()) == pending  # the event's commit queued them
    # A worker starting (and the sweep every minute) adds nothing to what is on the queue ...
    assert sweep_letters() == [] and sweep_letters(older_than_seconds=0) == []
    assert sorted(_queued_letter_ids()) == pending
    # ... and after the queue lost them, two sweeps (two workers starting) queue each one once.
    queue.huey.flush()
    for letter in letters_of(case.id):
        letter.queued_at = letter.queued_at - timedelta(minutes=5)
    commit()
    assert sorted(sweep_letters() + sweep_letters()) == pending
    assert sorted(_queued_letter_ids()) == pending


def test_a_letter_the_queue_refused_is_queued_by_a_sweep_when_the_queue_is_back(demo, monkeypatch):
    from casework.letters import tasks

    def queue_down(letter_id):
        raise ConnectionError("wachtrij onbereikbaar")

    monkeypatch.setattr(tasks, "render_letter_task", queue_down)
    case = make_case(demo, "kennisgeving_ontvangen")
    [letter] = letters_of(case.id)
    assert case.state == "kennisgeving_ontvangen"  # the step itself went through
    monkeypatch.undo()
    queue.huey.flush()
    assert _queued_letter_ids() == []
    letter.queued_at = letter.queued_at - timedelta(minutes=2)
    commit()
    assert sweep_letters() == [letter.id]  # the queue is empty, the letter waited over a minute
    assert _queued_letter_ids() == [letter.id]


def test_render_tasks_store_no_result(demo):
    case = make_case(demo, "kennisgeving_ontvangen")
    [letter] = letters_of(case.id)
    queue.huey.flush()
    from casework.letters.tasks import render_letter_task

    queue.huey.execute(render_letter_task.s(letter.id))  # as the consumer runs it
    assert db.session.get(Letter, letter.id).status == "rendered"
    assert queue.huey.result_count() == 0


def test_rendering_twice_keeps_the_first_pdf(demo):
    case = make_case(demo, "kennisgeving_ontvangen")
    [letter] = letters_of(case.id)
    render_letter_now(letter.id)
    sha = db.session.get(Letter, letter.id).sha256
    assert render_letter_now(letter.id) == "rendered"
    assert db.session.get(Letter, letter.id).sha256 == sha
    assert db.session.get(Letter, letter.id).attempts == 1


def test_a_letter_another_worker_rendered_meanwhile_keeps_that_pdf(demo, monkeypatch):
    """Two workers on one letter (a sweep re-queued it): the one that finishes second writes
    nothing, though its session still holds the letter as it was before rendering."""
    case = make_case(demo, "kennisgeving_ontvangen")
    [letter] = letters_of(case.id)
    real = render.render_letter

    def other_worker_first(kind, context, logo=None):
        pdf, sha = real(kind, context, logo)
        # As another process would: the row changes, this session's copy of it does not.
        db.session.execute(update(Letter).where(Letter.id == letter.id).values(
            pdf=b"%PDF-other", sha256="0" * 64, status="rendered", attempts=1),
            execution_options={"synchronize_session": False})
        db.session.commit()
        return pdf, sha

    monkeypatch.setattr(render, "render_letter", other_worker_first)
    assert render_letter_now(letter.id) == "rendered"
    db.session.expire_all()
    stored = db.session.get(Letter, letter.id)
    assert (stored.pdf, stored.sha256, stored.attempts) == (b"%PDF-other", "0" * 64, 1)


def test_transition_does_not_wait_for_rendering(demo, monkeypatch):
    """A broken renderer cannot make an event fail: rendering happens after, in the worker."""
    monkeypatch.setattr(render, "render_letter", lambda kind, context, logo=None: 1 / 0)
    case = make_case(demo, "in_behandeling")
    assert db.session.get(Case, case.id).state == "in_behandeling"
    assert {x.status for x in letters_of(case.id)} == {"pending"}


# ------------------------------------------------------------------ every event has a letter

def _workflow_events():
    from casework.workflows import WORKFLOWS

    return [(wf.case_type, spec) for wf in WORKFLOWS.values() for spec in wf.events.values()]


@pytest.mark.parametrize(("case_type", "spec"), _workflow_events(),
                         ids=[f"{t}.{s.name}" for t, s in _workflow_events()])
def test_every_event_of_every_workflow_has_a_letter(case_type, spec):
    """domain.md: a workflow with an event that produces no letter is a defect."""
    from types import SimpleNamespace

    assert spec.letters, f"{case_type}: event {spec.name} has no LetterSpec"
    # Letters with a condition: every destination the event can reach still gets one.
    # A condition may also read the case's data (e.g. an ending before any verklaring).
    for dest in spec.destinations():
        for data in ({}, {"procedure_afgebroken": True}):
            after = SimpleNamespace(state=dest, data=data)
            produced = [ls.kind for ls in spec.letters if ls.when is None or ls.when(after)]
            assert produced, f"{case_type}: {spec.name} -> {dest} ({data}) produces no letter"
    for letter_spec in spec.letters:
        assert letter_spec.kind in render.LETTER_KINDS, letter_spec.kind
        assert (render.TEMPLATE_DIR / f"{letter_spec.kind}.html").is_file(), letter_spec.kind


def test_the_walk_sees_the_vrijstelling_workflow():
    names = {spec.name for case_type, spec in _workflow_events() if case_type == "vrijstelling_5a"}
    assert len(names) == 15 and {"geef_verklaring", "zie_af", "vraag_ander_swv"} <= names


# ------------------------------------------------------------------ the beheerder's failed letters

def test_the_beheerder_sees_letters_that_failed_every_attempt_and_tries_again(app, client, demo):
    from conftest import web_signed_in

    case = make_case(demo, "kennisgeving_ontvangen")
    [letter] = letters_of(case.id)
    db.session.execute(update(Letter).where(Letter.id == letter.id).values(
        status="failed", attempts=app.config["LETTER_MAX_ATTEMPTS"],
        last_error="RuntimeError: Sam Jansen, Dorpsstraat 1"))
    commit()
    queue.huey.flush()
    web_signed_in(client, "beheer@voorbeeldstad.test")
    page = client.get("/beheer/brieven").get_data(as_text=True)
    assert case.reference in page and "Opnieuw proberen" in page
    assert "Sam" not in page and "Dorpsstraat" not in page  # no case content, no error text
    done = client.post(f"/beheer/brieven/{letter.id}/opnieuw",
                       data={"csrf_token": _csrf(client, "/beheer/brieven")})
    assert done.status_code == 302
    letter = db.session.get(Letter, letter.id)
    assert (letter.status, letter.attempts) == ("pending", 0)
    assert _queued_letter_ids() == [letter.id]
    assert "Er zijn geen mislukte brieven" in client.get("/beheer/brieven").get_data(as_text=True)
    # A second try of a letter that is not (or no longer) failed is a 404, nothing changes.
    assert client.post(f"/beheer/brieven/{letter.id}/opnieuw",
                       data={"csrf_token": _csrf(client, "/beheer/brieven")}).status_code == 404


def test_other_roles_do_not_see_or_retry_failed_letters(app, client, demo):
    from conftest import web_signed_in

    case = make_case(demo, "kennisgeving_ontvangen")
    [letter] = letters_of(case.id)
    db.session.execute(update(Letter).where(Letter.id == letter.id).values(
        status="failed", attempts=app.config["LETTER_MAX_ATTEMPTS"]))
    commit()
    web_signed_in(client, "leerplicht@voorbeeldstad.test")
    assert client.get("/beheer/brieven").status_code in (403, 404)
    assert client.post(f"/beheer/brieven/{letter.id}/opnieuw",
                       data={"csrf_token": _csrf(client, "/kennisgeving/nieuw")}).status_code in (403, 404)
    assert db.session.get(Letter, letter.id).status == "failed"


def _csrf(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
