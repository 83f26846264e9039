"""The beheerder's school-holiday calendar (on blueprint `web`): the holidays of a school year per
region and the deviations of the schools of its own gemeente, and each school's region.

Regional rows are shared by every gemeente (they are the national advice); a deviation belongs to
one school. Who changed what is written to the access log (AccessLog, via "web")."""
from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from casework import policy
from casework.extensions import db
from casework.formatting import format_datum
from casework.models import Case, Schoolvakantie
from casework.models.organisation import VAKANTIEREGIOS
from casework.schoolkalender import vakantie_label
from casework.services import beheer_log
from casework.services import cases as case_service

from ..forms.beheer import REGIO_LABELS, SchoolvakantieForm, VakantieregioForm
from .web import _GENERAL_ERROR, _user, bp


def _schooljaar_van(day: date) -> str:
    start = day.year if day.month >= 8 else day.year - 1
    return f"{start}-{start + 1}"


def _schooljaren() -> list[str]:
    huidig = _schooljaar_van(case_service._today())
    volgend = f"{int(huidig[:4]) + 1}-{int(huidig[:4]) + 2}"
    return sorted(set(db.session.scalars(select(Schoolvakantie.schooljaar).distinct())) | {huidig, volgend})


VAKANTIE_FIELDS = ("schooljaar", "naam", "regio", "school_id", "begin", "eind")


def _record(user, row: Schoolvakantie, actie: str, changes: dict, scholen: dict) -> None:
    beheer_log.record(user, "schoolvakantie", row.id, actie, _omschrijving(row, scholen), changes)


def _omschrijving(row: Schoolvakantie, scholen: dict) -> str:
    wie = f"regio {row.regio}" if row.regio else scholen.get(row.school_id, f"school {row.school_id}")
    return f"{vakantie_label(row.naam)} {row.schooljaar} ({wie})"


def _scholen(user) -> list:
    return db.session.scalars(policy.beheer_scholen_query(user)).all()


@bp.get("/beheer/schoolvakanties")
def schoolvakanties():
    return _render_lijst(_user())


def _render_lijst(user, regio_forms: dict | None = None, error: str | None = None, status: int = 200):
    jaren = _schooljaren()
    schooljaar = request.values.get("schooljaar", "")
    if schooljaar not in jaren:
        schooljaar = _schooljaar_van(case_service._today())
    scholen = _scholen(user)
    namen = {s.id: s.naam for s in scholen}
    rows = db.session.scalars(select(Schoolvakantie).where(Schoolvakantie.schooljaar == schooljaar)
                              .order_by(Schoolvakantie.begin, Schoolvakantie.naam)).all()
    per_regio = {r: [row for row in rows if row.regio == r] for r in VAKANTIEREGIOS}
    afwijkingen = [row for row in rows if row.school_id in namen]
    regio_forms = regio_forms or {}
    for s in scholen:
        if s.id not in regio_forms:
            regio_forms[s.id] = VakantieregioForm(formdata=None, prefix=f"school{s.id}",
                                                  vakantieregio=s.vakantieregio or "").setup(s.naam)
    return render_template("beheer/schoolvakanties.html", schooljaar=schooljaar, jaren=jaren,
                           per_regio=per_regio, regio_labels=REGIO_LABELS, afwijkingen=afwijkingen,
                           school_namen=namen, scholen=scholen, regio_forms=regio_forms,
                           label=vakantie_label, error=error), status


def _duplicate(form: SchoolvakantieForm, regio, school_id, own_id: int | None) -> bool:
    q = select(Schoolvakantie.id).where(
        Schoolvakantie.schooljaar == form.schooljaar.data, Schoolvakantie.naam == form.naam.data,
        Schoolvakantie.regio.is_(None) if regio is None else Schoolvakantie.regio == regio,
        Schoolvakantie.school_id.is_(None) if school_id is None else Schoolvakantie.school_id == school_id)
    if own_id is not None:
        q = q.where(Schoolvakantie.id != own_id)
    return db.session.scalar(q) is not None


def _save(user, form: SchoolvakantieForm, row: Schoolvakantie | None):
    """Validate and write one row; returns a redirect, or None when the form has errors."""
    if not form.validate():
        return None
    regio, school_id = form.doel()
    if _duplicate(form, regio, school_id, row.id if row else None):
        form.add_error("naam", f"De {vakantie_label(form.naam.data)} van {form.schooljaar.data} staat er "
                               "al voor deze regio of school. Wijzig die vakantie in de lijst.")
        return None
    new = row is None
    before = {} if new else beheer_log.fields(row, VAKANTIE_FIELDS)
    row = row or Schoolvakantie()
    row.schooljaar, row.naam, row.regio, row.school_id = form.schooljaar.data, form.naam.data, regio, school_id
    row.begin, row.eind = form.begin.data, form.eind.data
    if new:
        db.session.add(row)
    db.session.flush()
    scholen = {s.id: s.naam for s in _scholen(user)}
    _record(user, row, "toegevoegd" if new else "gewijzigd",
            beheer_log.diff(before, beheer_log.fields(row, VAKANTIE_FIELDS)), scholen)
    case_service.commit()
    flash(f"Gelukt: de {_omschrijving(row, scholen)} is {'toegevoegd' if new else 'gewijzigd'}: "
          f"van {format_datum(row.begin)} tot en met {format_datum(row.eind)}.", "success")
    return redirect(url_for("web.schoolvakanties", schooljaar=row.schooljaar))


@bp.route("/beheer/schoolvakanties/nieuw", methods=["GET", "POST"])
def schoolvakantie_nieuw():
    user = _user()
    form = SchoolvakantieForm().setup(_scholen(user))
    if request.method == "GET":
        form.schooljaar.data = request.args.get("schooljaar") or _schooljaar_van(case_service._today())
        form.geldt_voor.data = "regio:midden"
    if form.is_submitted():
        done = _save(user, form, None)
        if done is not None:
            return done
        return render_template("beheer/schoolvakantie_form.html", form=form, row=None,
                               error=_GENERAL_ERROR), 422
    return render_template("beheer/schoolvakantie_form.html", form=form, row=None, error=None)


@bp.route("/beheer/schoolvakanties/<int:vakantie_id>/wijzigen", methods=["GET", "POST"])
def schoolvakantie_wijzig(vakantie_id: int):
    user = _user()
    row = policy.get_schoolvakantie_for(user, vakantie_id)
    form = SchoolvakantieForm().setup(_scholen(user))
    if request.method == "GET":
        form.schooljaar.data, form.naam.data = row.schooljaar, row.naam
        form.geldt_voor.data = f"regio:{row.regio}" if row.regio else f"school:{row.school_id}"
        form.begin.data, form.eind.data = row.begin, row.eind
    if form.is_submitted():
        done = _save(user, form, row)
        if done is not None:
            return done
        db.session.rollback()
        row = policy.get_schoolvakantie_for(user, vakantie_id)
        return render_template("beheer/schoolvakantie_form.html", form=form, row=row,
                               error=_GENERAL_ERROR), 422
    return render_template("beheer/schoolvakantie_form.html", form=form, row=row, error=None)


@bp.route("/beheer/schoolvakanties/<int:vakantie_id>/verwijderen", methods=["GET", "POST"])
def schoolvakantie_verwijder(vakantie_id: int):
    user = _user()
    row = policy.get_schoolvakantie_for(user, vakantie_id)
    scholen = {s.id: s.naam for s in _scholen(user)}
    omschrijving = _omschrijving(row, scholen)
    if request.method == "POST":
        schooljaar = row.schooljaar
        _record(user, row, "verwijderd", beheer_log.diff(beheer_log.fields(row, VAKANTIE_FIELDS), {}), scholen)
        db.session.delete(row)
        case_service.commit()
        flash(f"Gelukt: de {omschrijving} is verwijderd.", "success")
        return redirect(url_for("web.schoolvakanties", schooljaar=schooljaar))
    return render_template("beheer/schoolvakantie_verwijder.html", row=row, omschrijving=omschrijving)


@bp.post("/beheer/scholen/<int:school_id>/vakantieregio")
def school_vakantieregio(school_id: int):
    user = _user()
    school = policy.get_beheer_school(user, school_id)
    form = VakantieregioForm(prefix=f"school{school.id}").setup(school.naam)
    if not form.validate():
        return _render_lijst(user, {school.id: form}, error=_GENERAL_ERROR, status=422)
    before = school.vakantieregio
    school.vakantieregio = form.vakantieregio.data or None
    if before != school.vakantieregio:
        beheer_log.record(user, "organisatie", school.id, "gewijzigd", f"school {school.naam} ({school.code})",
                          {"vakantieregio": [before, school.vakantieregio]})
    case_service.commit()
    flash(f"Gelukt: {school.naam} staat nu in "
          f"{REGIO_LABELS[school.vakantieregio].lower() if school.vakantieregio else 'geen regio'}.",
          "success")
    return redirect(url_for("web.schoolvakanties", schooljaar=request.form.get("schooljaar") or None))


# ------------------------------------------------------------------ letters that failed

@bp.get("/beheer/brieven")
def beheer_brieven():
    """Letters of the own gemeente that failed every attempt: kenmerk, kind and date only (no
    content, no error text: it may quote the letter)."""
    from casework.letters.render import LETTER_KINDS
    from casework.services.letters import failed_letters

    user = _user()
    rows = failed_letters(policy.gemeente_ids(user))
    refs = dict(db.session.execute(select(Case.id, Case.reference)
                                   .where(Case.id.in_({lt.case_id for lt in rows}))).all()) if rows else {}
    return render_template("beheer/brieven.html", rows=rows, refs=refs, kinds=LETTER_KINDS)


@bp.post("/beheer/brieven/<int:letter_id>/opnieuw")
def beheer_brief_opnieuw(letter_id: int):
    from casework.services.letters import failed_letters, retry_letter, sweep_letters

    user = _user()
    letter = next((lt for lt in failed_letters(policy.gemeente_ids(user)) if lt.id == letter_id), None)
    if letter is None:
        abort(404)
    attempts = letter.attempts
    retry_letter(letter)
    beheer_log.record(user, "brief", letter.id, "opnieuw proberen", f"brief {letter.id} ({letter.kind})",
                      {"pogingen": [attempts, letter.attempts]})
    case_service.commit()
    sweep_letters()  # on the queue now, not at the next minute
    flash(f"Gelukt: brief {letter.id} wordt opnieuw gemaakt. Dat duurt meestal minder dan een minuut.",
          "success")
    return redirect(url_for("web.beheer_brieven"))
