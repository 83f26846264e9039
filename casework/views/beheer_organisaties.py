"""The beheerder's organisations and the gemeente's own settings (on blueprint `web`).

Organisations: the own gemeente, its schools (BRIN, holiday region), and the SWVs and JGZ
organisations that serve it (the gemeenten they serve, an SWV's neighbours). Nothing is deleted:
cases and letters refer to organisations. Settings: the advice term, the herbeoordeling interval
and lead times, the letter signatory, contact details and letterhead logo. Every change is
recorded old -> new (services/beheer_log.py) in the transaction that makes it."""
from __future__ import annotations

from datetime import date

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from casework import policy
from casework.extensions import db
from casework.models import GemeenteInstellingen, Organisation
from casework.services import beheer_log, instellingen
from casework.services import cases as case_service

from ..cli_admin import ORGANISATION_FIELDS
from ..forms.beheer_gebruikers import KIND_LABELS
from ..forms.beheer_organisaties import InstellingenForm, OrganisatieForm, normal_code
from .web import _GENERAL_ERROR, _user, bp

NIEUW_KINDS = ("school", "swv", "jgz")
NIEUW_LABELS = {"school": "School toevoegen", "swv": "Samenwerkingsverband toevoegen",
                "jgz": "JGZ-organisatie toevoegen"}
CONTACT_FIELDS = ("adres", "postcode_plaats", "telefoon", "email")
SETTING_FIELDS = ("advies_termijn_dagen", "herbeoordeling_lead_dagen", "verlenging_herinnering_dagen",
                  "ondertekenaar_naam", "ondertekenaar_functie")


def _snapshot(org: Organisation) -> dict:
    """What a change record shows of an organisation, with its relations by name."""
    found = beheer_log.fields(org, ORGANISATION_FIELDS)
    if org.kind == "swv":
        found["gemeenten"] = sorted(g.naam for g in org.gemeenten)
        found["buren"] = sorted(b.naam for b in org.buren)
    elif org.kind == "jgz":
        found["gemeenten"] = sorted(g.naam for g in org.jgz_gemeenten)
    return found


def _form(user, kind: str, org: Organisation | None = None) -> OrganisatieForm:
    gemeenten = db.session.scalars(policy.beheer_keuze_query(user, "gemeente")).all() if kind in ("swv", "jgz") else []
    swvs = [s for s in db.session.scalars(policy.beheer_keuze_query(user, "swv"))
            if org is None or s.id != org.id] if kind == "swv" else []
    return OrganisatieForm().setup(kind, gemeenten, swvs)


def _code_taken(code: str, own_id: int | None) -> bool:
    q = select(Organisation.id).where(func.upper(Organisation.code) == code)
    if own_id is not None:
        q = q.where(Organisation.id != own_id)
    return db.session.scalar(q) is not None


def _apply(form: OrganisatieForm, org: Organisation) -> None:
    org.naam, org.code = form.naam.data.strip(), normal_code(form.code.data)
    for name in CONTACT_FIELDS:
        setattr(org, name, (getattr(form, name).data or "").strip())
    if org.kind == "school":
        org.vakantieregio = form.vakantieregio.data or None
    elif org.kind == "swv":
        org.gemeenten = form.gekozen_gemeenten
        org.buren = form.gekozen_buren
    elif org.kind == "jgz":
        org.jgz_gemeenten = form.gekozen_gemeenten


def _fill(form: OrganisatieForm, org: Organisation) -> None:
    form.naam.data, form.code.data = org.naam, org.code
    for name in CONTACT_FIELDS:
        getattr(form, name).data = getattr(org, name)
    form.vakantieregio.data = org.vakantieregio or ""
    if org.kind == "swv":
        form.gemeenten.data = [str(g.id) for g in org.gemeenten]
        form.buren.data = [str(b.id) for b in org.buren]
    elif org.kind == "jgz":
        form.gemeenten.data = [str(g.id) for g in org.jgz_gemeenten]


def _check(form: OrganisatieForm, user, own_id: int | None) -> bool:
    ok = form.check(user.organisation_id)
    code = normal_code(form.code.data)
    if ok and _code_taken(code, own_id):
        form.add_error("code", f"Er is al een organisatie met code {code}. Elke organisatie heeft een eigen code.")
        ok = False
    return ok


# ------------------------------------------------------------------ organisations

@bp.get("/beheer/organisaties")
def beheer_organisaties():
    user = _user()
    orgs = db.session.scalars(policy.beheer_organisaties_query(user).options(
        selectinload(Organisation.gemeenten), selectinload(Organisation.jgz_gemeenten),
        selectinload(Organisation.buren))).all()
    groups = [(kind, [o for o in orgs if o.kind == kind]) for kind in ("gemeente", "school", "swv", "jgz")]
    return render_template("beheer/organisaties.html", groups=groups, kind_labels=KIND_LABELS,
                           nieuw=NIEUW_LABELS)


@bp.route("/beheer/organisaties/nieuw/<kind>", methods=["GET", "POST"])
def beheer_organisatie_nieuw(kind: str):
    user = _user()
    if kind not in NIEUW_KINDS:
        abort(404)
    form = _form(user, kind)
    if request.method == "GET":
        form.gemeenten.data = [str(user.organisation_id)]
        return _page(form, None, kind, None)
    if not _check(form, user, None):
        return _page(form, None, kind, _GENERAL_ERROR, 422)
    org = Organisation(kind=kind, gemeente_id=user.organisation_id if kind == "school" else None)
    _apply(form, org)
    db.session.add(org)
    db.session.flush()
    beheer_log.record(user, "organisatie", org.id, "toegevoegd", f"{KIND_LABELS[kind].lower()} {org.naam} ({org.code})",
                      beheer_log.diff({}, _snapshot(org)))
    case_service.commit()
    flash(f"Gelukt: {org.naam} is toegevoegd.", "success")
    return redirect(url_for("web.beheer_organisaties"))


@bp.route("/beheer/organisaties/<int:organisation_id>/wijzigen", methods=["GET", "POST"])
def beheer_organisatie_wijzig(organisation_id: int):
    user = _user()
    org = policy.get_beheer_organisatie(user, organisation_id)
    form = _form(user, org.kind, org)
    if request.method == "GET":
        _fill(form, org)
        return _page(form, org, org.kind, None)
    if not _check(form, user, org.id):
        return _page(form, org, org.kind, _GENERAL_ERROR, 422)
    before = _snapshot(org)
    _apply(form, org)
    changes = beheer_log.diff(before, _snapshot(org))
    if not changes:
        flash("Er was niets veranderd.", "info")
        return redirect(url_for("web.beheer_organisaties"))
    db.session.flush()
    beheer_log.record(user, "organisatie", org.id, "gewijzigd", f"{KIND_LABELS[org.kind].lower()} {org.naam} ({org.code})",
                      changes)
    case_service.commit()
    flash(f"Gelukt: de gegevens van {org.naam} zijn gewijzigd.", "success")
    return redirect(url_for("web.beheer_organisaties"))


def _page(form, org, kind, error, status=200):
    return render_template("beheer/organisatie_form.html", form=form, org=org, kind=kind, error=error,
                           kind_label=KIND_LABELS[kind], nieuw=NIEUW_LABELS), status


# ------------------------------------------------------------------ the gemeente's settings

def _settings_snapshot(gemeente: Organisation, row: GemeenteInstellingen | None) -> dict:
    found = {name: getattr(row, name) if row is not None else None for name in SETTING_FIELDS}
    found["ondertekenaar_naam"] = found["ondertekenaar_naam"] or None
    found["ondertekenaar_functie"] = found["ondertekenaar_functie"] or None
    found["max_herbeoordeling_maanden"] = gemeente.max_herbeoordeling_maanden
    found.update({name: getattr(gemeente, name) or None for name in CONTACT_FIELDS})
    found["logo"] = instellingen.logo_summary(row.logo, row.logo_type) if row is not None else None
    return found


def _defaults() -> dict:
    from flask import current_app

    config = current_app.config
    return {"advies_termijn_dagen": config["ADVIES_TERMIJN_DAGEN"],
            "max_herbeoordeling_maanden": config["MAX_HERBEOORDELING_MAANDEN"],
            "herbeoordeling_lead_dagen": config["HERBEOORDELING_LEAD_DAYS"],
            "verlenging_herinnering_dagen": config["VERLENGING_HERINNERING_DAGEN"]}


@bp.route("/beheer/instellingen", methods=["GET", "POST"])
def beheer_instellingen():
    user = _user()
    gemeente = policy.get_beheer_organisatie(user, user.organisation_id)
    row = instellingen.row(gemeente.id)
    form = InstellingenForm()
    if request.method == "GET":
        for name in SETTING_FIELDS:
            getattr(form, name).data = getattr(row, name) if row is not None else None
        form.max_herbeoordeling_maanden.data = gemeente.max_herbeoordeling_maanden
        for name in CONTACT_FIELDS:
            getattr(form, name).data = getattr(gemeente, name)
        return _settings_page(form, gemeente, row, None)
    ok = form.validate()
    upload = form.logo.data
    data = None
    if upload and getattr(upload, "filename", ""):
        with upload.stream:  # a large upload is a temporary file: closed at once
            data = upload.read(instellingen.LOGO_MAX_BYTES + 1)
    mime = None
    if data is not None:
        mime, problem = instellingen.logo_problem(data)
        if problem:
            form.add_error("logo", problem)
            ok = False
    if not ok:
        return _settings_page(form, gemeente, row, _GENERAL_ERROR, 422)
    before = _settings_snapshot(gemeente, row)
    if row is None:
        row = GemeenteInstellingen(gemeente_id=gemeente.id)
        db.session.add(row)
    for name in ("advies_termijn_dagen", "herbeoordeling_lead_dagen", "verlenging_herinnering_dagen"):
        setattr(row, name, getattr(form, name).data)
    row.ondertekenaar_naam = (form.ondertekenaar_naam.data or "").strip()
    row.ondertekenaar_functie = (form.ondertekenaar_functie.data or "").strip()
    gemeente.max_herbeoordeling_maanden = form.max_herbeoordeling_maanden.data
    for name in CONTACT_FIELDS:
        setattr(gemeente, name, (getattr(form, name).data or "").strip())
    if data is not None:
        row.logo, row.logo_type = data, mime
    elif form.logo_weg.data:
        row.logo, row.logo_type = None, None
    changes = beheer_log.diff(before, _settings_snapshot(gemeente, row))
    if not changes:
        db.session.rollback()
        flash("Er was niets veranderd.", "info")
        return redirect(url_for("web.beheer_instellingen"))
    db.session.flush()
    beheer_log.record(user, "instellingen", gemeente.id, "gewijzigd", f"instellingen van {gemeente.naam}", changes)
    case_service.commit()
    flash("Gelukt: de instellingen zijn opgeslagen. Ze gelden voor nieuwe stappen en brieven vanaf nu.", "success")
    return redirect(url_for("web.beheer_instellingen"))


def _settings_page(form, gemeente, row, error, status=200):
    return render_template("beheer/instellingen.html", form=form, gemeente=gemeente, error=error,
                           defaults=_defaults(), heeft_logo=bool(row is not None and row.logo),
                           logo_info=instellingen.logo_summary(row.logo, row.logo_type) if row is not None else None
                           ), status


@bp.get("/beheer/instellingen/logo")
def beheer_instellingen_logo():
    user = _user()
    found = instellingen.logo(user.organisation_id)
    if found is None:
        abort(404)
    response = make_response(found[0])
    response.headers["Content-Type"] = found[1]
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/beheer/instellingen/voorbeeldbrief.pdf")
def beheer_voorbeeldbrief():
    """A sample letter with the gemeente's letterhead, contact details and signatory, made on the
    spot (no case, no child): to check the settings before real letters go out."""
    from casework.letters.render import LOGO_URL, env, render_pdf

    user = _user()
    gemeente = policy.get_beheer_organisatie(user, user.organisation_id)
    logo = instellingen.logo(gemeente.id)
    html = env.get_template("voorbeeld.html").render(
        onderwerp="Voorbeeldbrief", datum=date.today(), kenmerk="VOORBEELD",
        gemeente={name: getattr(gemeente, name) for name in ("naam", *CONTACT_FIELDS)},
        ontvanger={"naam": "Familie Voorbeeld", "adres_regels": ["Voorbeeldstraat 1", "1234 AB Voorbeeldstad"]},
        afzender={"naam": user.naam, "functie": f"Leerplicht, {gemeente.naam}",
                  "telefoon": gemeente.telefoon, "email": gemeente.email},
        ondertekening=instellingen.ondertekening(gemeente.id), logo=LOGO_URL if logo else None)
    response = make_response(render_pdf(html, {LOGO_URL: logo} if logo else None))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = 'inline; filename="voorbeeldbrief.pdf"'
    return response
