"""The beheerder's users, children and parent links, and the record of changes (on blueprint
`web`). Every change is recorded with old -> new (services/beheer_log.py) in the transaction that
makes it. The beheerder sees who works with the product and which parents belong to which child of
its gemeente; never the content of a case."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from casework import auth, mail, policy
from casework.extensions import db
from casework.models import User, parent_children
from casework.services import audit as audit_service
from casework.services import beheer_log
from casework.services import cases as case_service
from casework.services.errors import ValidationFailed

from ..forms.beheer_gebruikers import GebruikerForm, KindForm, KindZoekForm, OuderKoppelForm, UitnodigingForm
from .texts import ROLE_LABELS
from .web import _GENERAL_ERROR, _user, bp

USER_FIELDS = ("naam", "email", "functie", "telefoon", "role", "organisation_id", "active")
CHILD_FIELDS = ("bsn", "voornaam", "achternaam", "geboortedatum", "geslacht", "adres",
                "postcode_plaats", "school_id")


def _orgs(user):
    return db.session.scalars(policy.beheer_organisaties_query(user)).all()


def _public_url(path: str) -> str | None:
    from .auth import _public_url as public_url

    return public_url(path)


def _send_invitation(user: User, token: str, door: User) -> bool:
    """The invitation mail with its link; False when no link can be made (no PUBLIC_URL)."""
    link = _public_url(url_for("auth.uitnodiging", token=token))
    if link is None:
        current_app.logger.error("CASEWORK_PUBLIC_URL ontbreekt: geen uitnodiging verstuurd")
        return False
    organisatie = user.organisation.naam if user.organisation else (door.organisation.naam if door.organisation else "")
    mail.send(mail.build_message(
        user.email, "Uitnodiging voor Casework", "uitnodiging", naam=user.naam, link=link,
        rol=ROLE_LABELS.get(user.role, user.role).lower(), organisatie=organisatie, door=door.naam,
        dagen=current_app.config["INVITATION_DAYS"], ouder=user.role == "ouder"))
    return True


def _email_taken(email: str, own_id: int | None = None) -> bool:
    q = select(User.id).where(func.lower(User.email) == email.lower())
    if own_id is not None:
        q = q.where(User.id != own_id)
    return db.session.scalar(q) is not None


def _status(u: User) -> str:
    if not u.active:
        return "gedeactiveerd"
    invitation = auth.open_invitation(u.id)
    if invitation is not None:
        return "uitgenodigd" if invitation.expires_at > auth._now() else "uitnodiging verlopen"
    return "actief"


# ------------------------------------------------------------------ users

@bp.route("/beheer/gebruikers/nieuw", methods=["GET", "POST"])
def gebruiker_nieuw():
    beheerder = _user()
    form = UitnodigingForm().setup(_orgs(beheerder))
    if request.method == "GET":
        form.manier.data = "email"
        return render_template("beheer/gebruiker_form.html", form=form, target=None, error=None)
    if not form.check() or _refuse_email(form, None):
        return render_template("beheer/gebruiker_form.html", form=form, target=None, error=_GENERAL_ERROR), 422
    org = form.gekozen_organisatie
    new = User(email=form.email.data.strip().lower(), naam=form.naam.data.strip(),
               functie=(form.functie.data or "").strip(), telefoon=(form.telefoon.data or "").strip(),
               role=form.rol.data, organisation_id=org.id, password_hash=auth.unusable_password_hash())
    db.session.add(new)
    db.session.flush()
    secret = auth.create_invitation(new, "code" if form.manier.data == "code" else "uitnodiging")
    beheer_log.record(beheerder, "gebruiker", new.id, "uitgenodigd", f"{new.naam} <{new.email}>",
                      {**beheer_log.diff({}, beheer_log.fields(new, USER_FIELDS)),
                       "uitnodiging": [None, "eenmalige code" if form.manier.data == "code" else "e-mail"]})
    audit_service.log_security("gebruiker_uitgenodigd", beheerder, detail=str(new.id))
    case_service.commit()
    return _invited(new, secret, form.manier.data, beheerder)


def _invited(target: User, secret: str, manier: str, beheerder: User):
    if manier == "code":
        # The only time the code is shown; only its hash is kept.
        return render_template("beheer/gebruiker_code.html", target=target, code=secret,
                               dagen=current_app.config["INVITATION_DAYS"])
    sent = _send_invitation(target, secret, beheerder)
    if sent:
        flash(f"Gelukt: {target.naam} is uitgenodigd. De e-mail met de link gaat naar {target.email}. "
              f"De link werkt {current_app.config['INVITATION_DAYS']} dagen.", "success")
    else:
        flash(f"{target.naam} is aangemaakt, maar de e-mail kon niet worden gemaakt: het adres van Casework "
              "(CASEWORK_PUBLIC_URL) is niet ingesteld. Nodig opnieuw uit met een eenmalige code.", "error")
    return redirect(url_for("auth.users"))


def _refuse_email(form, own_id: int | None) -> bool:
    if form.email.data and _email_taken(form.email.data.strip(), own_id):
        form.add_error("email", "Dit e-mailadres heeft al een account. Elk account heeft een eigen e-mailadres.")
        return True
    return False


@bp.route("/beheer/gebruikers/<int:user_id>/wijzigen", methods=["GET", "POST"])
def gebruiker_wijzig(user_id: int):
    beheerder = _user()
    target = policy.get_beheer_gebruiker(beheerder, user_id)
    form = GebruikerForm().setup(_orgs(beheerder))
    if request.method == "GET":
        form.naam.data, form.email.data, form.functie.data = target.naam, target.email, target.functie
        form.telefoon.data, form.rol.data = target.telefoon, target.role
        form.organisatie.data = str(target.organisation_id or "")
        return _user_page(target, form, None)
    if not form.check() or _refuse_email(form, target.id):
        return _user_page(target, form, _GENERAL_ERROR, 422)
    if target.id == beheerder.id and form.rol.data != "beheerder":
        form.add_error("rol", "U kunt uw eigen rol niet wijzigen: laat dat een andere beheerder doen.")
        return _user_page(target, form, _GENERAL_ERROR, 422)
    before = beheer_log.fields(target, USER_FIELDS)
    target.naam, target.email = form.naam.data.strip(), form.email.data.strip().lower()
    target.functie, target.telefoon = (form.functie.data or "").strip(), (form.telefoon.data or "").strip()
    rights_changed = (target.role, target.organisation_id) != (form.rol.data, form.gekozen_organisatie.id)
    target.role, target.organisation_id = form.rol.data, form.gekozen_organisatie.id
    changes = beheer_log.diff(before, beheer_log.fields(target, USER_FIELDS))
    if not changes:
        flash("Er was niets veranderd.", "info")
        return redirect(url_for("auth.users"))
    if rights_changed:
        auth.end_all_sessions(target)  # what this user may see changes: sign in again
    db.session.flush()
    beheer_log.record(beheerder, "gebruiker", target.id, "gewijzigd", f"{target.naam} <{target.email}>", changes)
    case_service.commit()
    flash(f"Gelukt: de gegevens van {target.naam} zijn gewijzigd."
          + (" Deze gebruiker is overal uitgelogd, omdat de rol of organisatie anders is." if rights_changed else ""),
          "success")
    return redirect(url_for("auth.users"))


def _user_page(target, form, error, status=200):
    return render_template("beheer/gebruiker_form.html", form=form, target=target, error=error,
                           status=_status(target)), status


@bp.route("/beheer/gebruikers/<int:user_id>/deactiveren", methods=["GET", "POST"])
def gebruiker_deactiveer(user_id: int):
    beheerder = _user()
    target = policy.get_beheer_gebruiker(beheerder, user_id)
    if target.id == beheerder.id:
        flash("U kunt uw eigen account niet deactiveren: laat dat een andere beheerder doen.", "error")
        return redirect(url_for("auth.users"))
    if not target.active:
        return redirect(url_for("auth.users"))
    if request.method == "GET":
        return render_template("beheer/gebruiker_deactiveer.html", target=target)
    auth.deactivate(target)
    db.session.flush()
    beheer_log.record(beheerder, "gebruiker", target.id, "gedeactiveerd", f"{target.naam} <{target.email}>",
                      {"active": [True, False]})
    audit_service.log_security("gebruiker_gedeactiveerd", beheerder, detail=str(target.id))
    case_service.commit()
    flash(f"Gelukt: het account van {target.naam} is gedeactiveerd. Alle sessies en API-tokens van deze "
          "gebruiker zijn beëindigd.", "success")
    return redirect(url_for("auth.users"))


@bp.post("/beheer/gebruikers/<int:user_id>/activeren")
def gebruiker_activeer(user_id: int):
    beheerder = _user()
    target = policy.get_beheer_gebruiker(beheerder, user_id)
    if target.active:
        return redirect(url_for("auth.users"))
    target.active = True
    db.session.flush()
    beheer_log.record(beheerder, "gebruiker", target.id, "geactiveerd", f"{target.naam} <{target.email}>",
                      {"active": [False, True]})
    case_service.commit()
    flash(f"Gelukt: het account van {target.naam} werkt weer. Weet deze gebruiker het wachtwoord niet meer? "
          "Dan kan die Wachtwoord vergeten gebruiken, of u nodigt opnieuw uit.", "success")
    return redirect(url_for("auth.users"))


@bp.post("/beheer/gebruikers/<int:user_id>/opnieuw-uitnodigen")
def gebruiker_opnieuw_uitnodigen(user_id: int):
    beheerder = _user()
    target = policy.get_beheer_gebruiker(beheerder, user_id)
    manier = "code" if request.form.get("manier") == "code" else "email"
    if not target.active:
        flash("Dit account is gedeactiveerd. Activeer het eerst.", "error")
        return redirect(url_for("auth.users"))
    secret = auth.create_invitation(target, "code" if manier == "code" else "uitnodiging")
    beheer_log.record(beheerder, "gebruiker", target.id, "opnieuw uitgenodigd", f"{target.naam} <{target.email}>",
                      {"uitnodiging": [None, "eenmalige code" if manier == "code" else "e-mail"]})
    case_service.commit()
    return _invited(target, secret, manier, beheerder)


# ------------------------------------------------------------------ children and parents

def _scholen(user):
    return db.session.scalars(policy.beheer_scholen_query(user)).all()


@bp.get("/beheer/kinderen")
def beheer_kinderen():
    user = _user()
    form = KindZoekForm(request.args)
    error = None
    if request.args.get("bsn") is not None:
        if form.validate():
            child = policy.beheer_child_by_bsn(user, form.bsn.data.strip())
            audit_service.log_access(user, None, "beheer-bsn-zoeken", "web",
                                     child_id=child.id if child else None)
            case_service.commit()
            if child is not None:
                return redirect(url_for("web.beheer_kind", child_id=child.id))
            form.add_error("bsn", "Er staat geen kind met dit BSN in uw gemeente. Schrijf het kind in met "
                                  "Kind inschrijven.")
        error = _GENERAL_ERROR
    return render_template("beheer/kinderen.html", form=form, error=error), 422 if error else 200


def _kind_page(user, child, koppel_form=None, error=None, status=200):
    parents = sorted(child.parents, key=lambda p: p.naam.lower())
    return render_template("beheer/kind.html", child=child, parents=parents, error=error,
                           form=koppel_form or OuderKoppelForm(formdata=None)), status


@bp.get("/beheer/kinderen/<int:child_id>")
def beheer_kind(child_id: int):
    user = _user()
    child = policy.beheer_child(user, child_id)
    audit_service.log_access(user, None, "beheer-kind", "web", child_id=child.id)
    case_service.commit()
    return _kind_page(user, child)


@bp.route("/beheer/kinderen/nieuw", methods=["GET", "POST"])
def beheer_kind_nieuw():
    from casework.api.children import register_child
    from casework.api.schemas import ChildIn

    user = _user()
    form = KindForm().setup(_scholen(user))
    if request.method == "GET":
        return render_template("beheer/kind_nieuw.html", form=form, error=None)
    if not form.validate():
        return render_template("beheer/kind_nieuw.html", form=form, error=_GENERAL_ERROR), 422
    school_ids = {str(s.id) for s in _scholen(user)}
    if form.school.data and form.school.data not in school_ids:
        form.add_error("school", "Kies een school uit de lijst.")
        return render_template("beheer/kind_nieuw.html", form=form, error=_GENERAL_ERROR), 422
    try:
        data = case_service.parse_payload(ChildIn, {
            "bsn": form.bsn.data.strip(), "voornaam": form.voornaam.data, "achternaam": form.achternaam.data,
            "geboortedatum": form.geboortedatum.data.isoformat(), "geslacht": form.geslacht.data,
            "adres": form.adres.data or "", "postcode_plaats": form.postcode_plaats.data or "",
            "gemeente_id": user.organisation_id,
            "school_id": int(form.school.data) if form.school.data else None})
        child = register_child(user, data)
    except ValidationFailed as exc:
        for name, messages in exc.fields.items():
            for message in messages:
                form.add_error({"school_id": "school"}.get(name, name), message)
        return render_template("beheer/kind_nieuw.html", form=form, error=_GENERAL_ERROR), 422
    beheer_log.record(user, "kind", child.id, "toegevoegd", child.naam,
                      beheer_log.diff({}, beheer_log.fields(child, CHILD_FIELDS)))
    case_service.commit()
    flash(f"Gelukt: {child.naam} is ingeschreven. Koppel nu de ouders.", "success")
    return redirect(url_for("web.beheer_kind", child_id=child.id))


@bp.post("/beheer/kinderen/<int:child_id>/ouders")
def beheer_ouder_koppelen(child_id: int):
    user = _user()
    child = policy.beheer_child(user, child_id)
    form = OuderKoppelForm()
    if not form.validate():
        return _kind_page(user, child, form, _GENERAL_ERROR, 422)
    email = form.email.data.strip().lower()
    existing = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if existing is not None and existing.role != "ouder":
        form.add_error("email", "Dit e-mailadres hoort bij een medewerker en kan niet als ouder worden gekoppeld.")
        return _kind_page(user, child, form, _GENERAL_ERROR, 422)
    if existing is not None and existing in child.parents:
        form.add_error("email", "Deze ouder is al aan dit kind gekoppeld.")
        return _kind_page(user, child, form, _GENERAL_ERROR, 422)
    secret = None
    if existing is None:
        if not (form.naam.data or "").strip():
            form.add_error("naam", "Deze ouder heeft nog geen account: vul de naam in.")
            return _kind_page(user, child, form, _GENERAL_ERROR, 422)
        existing = User(email=email, naam=form.naam.data.strip(), role="ouder", organisation_id=None,
                        adres=(form.adres.data or "").strip(), postcode_plaats=(form.postcode_plaats.data or "").strip(),
                        password_hash=auth.unusable_password_hash())
        db.session.add(existing)
        db.session.flush()
        secret = auth.create_invitation(existing, "uitnodiging")
    child.parents.append(existing)
    db.session.flush()
    beheer_log.record(user, "ouder", child.id, "gekoppeld", f"{existing.naam} <{existing.email}> aan {child.naam}",
                      {"ouders": [None, existing.email]} | ({"account": [None, "nieuw, uitgenodigd"]} if secret else {}))
    case_service.commit()
    if secret is not None:
        _send_invitation(existing, secret, user)
    # The same answer whether or not the parent had an account: this page tells nobody that.
    flash(f"Gelukt: {email} is als ouder gekoppeld aan {child.naam}. Heeft deze ouder nog geen account, "
          "dan krijgt die een e-mail om een wachtwoord te kiezen.", "success")
    return redirect(url_for("web.beheer_kind", child_id=child.id))


@bp.route("/beheer/kinderen/<int:child_id>/ouders/<int:user_id>/ontkoppelen", methods=["GET", "POST"])
def beheer_ouder_ontkoppelen(child_id: int, user_id: int):
    user = _user()
    child = policy.beheer_child(user, child_id)
    parent = next((p for p in child.parents if p.id == user_id), None)
    if parent is None:
        abort(404)
    if request.method == "GET":
        return render_template("beheer/ouder_ontkoppelen.html", child=child, parent=parent)
    db.session.execute(parent_children.delete().where(parent_children.c.child_id == child.id,
                                                      parent_children.c.user_id == parent.id))
    beheer_log.record(user, "ouder", child.id, "ontkoppeld", f"{parent.naam} <{parent.email}> van {child.naam}",
                      {"ouders": [parent.email, None]})
    case_service.commit()
    flash(f"Gelukt: {parent.naam} is niet meer gekoppeld aan {child.naam}. Deze ouder ziet de zaken van "
          f"{child.voornaam} niet meer.", "success")
    return redirect(url_for("web.beheer_kind", child_id=child.id))


# ------------------------------------------------------------------ the record of changes

PER_PAGE = 50


@bp.get("/beheer/wijzigingen")
def beheer_wijzigingen():
    user = _user()
    try:
        page = max(1, min(int(request.args.get("pagina", "1")), 100_000))
    except ValueError:
        page = 1
    rows, total = beheer_log.gemeente_changes(user.organisation_id, page, PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    return render_template("beheer/wijzigingen.html", rows=rows, total=total, page=page, pages=pages,
                           veld=VELD_LABELS, waarde=_waarde)


def _waarde(value) -> str:
    """A recorded value as the page shows it: dates in words, yes/no, "(leeg)"."""
    import re

    from casework.formatting import format_datum

    if value is None or value == "":
        return "(leeg)"
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, list):
        return ", ".join(_waarde(v) for v in value) or "(leeg)"
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return format_datum(value)
    return str(value)


VELD_LABELS = {
    "naam": "naam", "email": "e-mailadres", "functie": "functie", "telefoon": "telefoon", "role": "rol",
    "organisation_id": "organisatie", "active": "actief", "uitnodiging": "uitnodiging",
    "wachtwoord": "wachtwoord", "ouders": "ouder", "account": "account", "bsn": "BSN",
    "voornaam": "voornaam", "achternaam": "achternaam", "geboortedatum": "geboortedatum",
    "geslacht": "geslacht", "adres": "adres", "postcode_plaats": "postcode en plaats", "school_id": "school",
    "kind": "soort", "code": "code", "vakantieregio": "vakantieregio", "gemeente_id": "gemeente",
    "schooljaar": "schooljaar", "regio": "regio", "begin": "eerste vrije dag", "eind": "laatste vrije dag",
    "pogingen": "pogingen", "gemeenten": "bediende gemeenten", "buren": "naburige samenwerkingsverbanden",
    "advies_termijn_dagen": "adviestermijn (dagen)", "max_herbeoordeling_maanden": "langste tijd tot herbeoordeling (maanden)",
    "herbeoordeling_lead_dagen": "herbeoordeling starten (dagen vooraf)",
    "verlenging_herinnering_dagen": "herinnering verlengen (dagen vooraf)",
    "ondertekenaar_naam": "ondertekenaar", "ondertekenaar_functie": "functie ondertekenaar", "logo": "logo",
}
