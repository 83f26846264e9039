"""flask --app casework admin create-organisation|create-user: the first organisations and the
first beheerder of an empty production database. Everything after that is done on the web."""
from __future__ import annotations

import sys

import click
from flask import Flask

from .models.organisation import ORGANISATION_KINDS, VAKANTIEREGIOS
from .models.user import ROLES

# Which kind of organisation each role works for (an ouder belongs to none).
ROLE_ORGANISATION = {"leerplichtambtenaar": "gemeente", "beheerder": "gemeente", "jeugdarts": "jgz",
                     "swv_adviseur": "swv", "school": "school"}


def _fail(message: str) -> None:
    click.echo(f"Fout: {message}", err=True)
    sys.exit(1)


def _organisation(code: str | None, kind: str | None = None):
    from sqlalchemy import func, select

    from .extensions import db
    from .models import Organisation

    if not code:
        return None
    org = db.session.scalar(select(Organisation).where(func.upper(Organisation.code) == code.strip().upper()))
    if org is None:
        _fail(f"er is geen organisatie met code {code}.")
    if kind and org.kind != kind:
        _fail(f"{org.naam} ({org.code}) is een {org.kind}, geen {kind}.")
    return org


def register_admin_cli(app: Flask) -> None:
    @app.cli.group("admin", help="Beheer vanaf de opdrachtregel: de eerste organisaties en gebruikers.")
    def admin_group():
        pass

    @admin_group.command("create-organisation", help="Maak een organisatie aan (gemeente, school, SWV of JGZ).")
    @click.option("--soort", type=click.Choice(ORGANISATION_KINDS), required=True,
                  help="Soort organisatie.")
    @click.option("--naam", required=True, help="Naam zoals die in brieven staat.")
    @click.option("--code", required=True,
                  help="Gemeentecode (GM0363), BRIN van een school, of een eigen code voor SWV en JGZ.")
    @click.option("--gemeente", "gemeente_code", default=None,
                  help="School: de gemeente waar de school staat (gemeentecode). SWV en JGZ: een "
                       "gemeente die zij bedienen (meer gemeenten op de beheerpagina's).")
    @click.option("--regio", type=click.Choice(VAKANTIEREGIOS), default=None,
                  help="School: de vakantieregio.")
    @click.option("--adres", default="", help="Straat en huisnummer.")
    @click.option("--postcode-plaats", default="", help="Postcode en plaats.")
    @click.option("--telefoon", default="", help="Telefoonnummer voor brieven.")
    @click.option("--email", default="", help="E-mailadres voor brieven.")
    def create_organisation(soort, naam, code, gemeente_code, regio, adres, postcode_plaats, telefoon, email):
        from .extensions import db
        from .models import Organisation
        from .services.audit import log_security

        code = code.strip().upper()
        if not naam.strip():
            _fail("vul een naam in.")
        if _exists(code):
            _fail(f"er is al een organisatie met code {code}.")
        if regio and soort != "school":
            _fail("alleen een school heeft een vakantieregio.")
        gemeente = _organisation(gemeente_code, "gemeente") if gemeente_code else None
        if gemeente_code and soort == "gemeente":
            _fail("een gemeente hoort niet bij een andere gemeente (laat --gemeente weg).")
        org = Organisation(kind=soort, naam=naam.strip(), code=code, adres=adres,
                           postcode_plaats=postcode_plaats, telefoon=telefoon, email=email,
                           vakantieregio=regio)
        if soort == "school" and gemeente is not None:
            org.gemeente_id = gemeente.id
        elif soort == "swv" and gemeente is not None:
            org.gemeenten = [gemeente]
        elif soort == "jgz" and gemeente is not None:
            org.jgz_gemeenten = [gemeente]
        db.session.add(org)
        db.session.flush()
        log_security("organisatie_aangemaakt", None, detail=f"{soort} {code}", via="cli")
        from .services import beheer_log

        beheer_log.record(None, "organisatie", org.id, "toegevoegd", f"{soort} {org.naam} ({org.code})",
                          beheer_log.diff({}, beheer_log.fields(org, ORGANISATION_FIELDS)),
                          gemeente_id=org.id if soort == "gemeente" else (gemeente.id if gemeente else None))
        db.session.commit()
        click.echo(f"Organisatie aangemaakt: {org.naam} ({org.kind}, code {org.code}).")

    @admin_group.command("create-user", help="Maak een gebruiker aan; het wachtwoord wordt gevraagd "
                                             "(of met --wachtwoord-stdin gelezen).")
    @click.option("--email", required=True, help="E-mailadres; daarmee logt de gebruiker in.")
    @click.option("--naam", required=True, help="Volledige naam.")
    @click.option("--rol", type=click.Choice(ROLES), required=True, help="Rol van de gebruiker.")
    @click.option("--organisatie", "organisatie_code", default=None,
                  help="Code van de organisatie (gemeentecode, BRIN, SWV- of JGZ-code); niet voor een ouder.")
    @click.option("--functie", default="", help="Functie, zoals die onder brieven staat.")
    @click.option("--wachtwoord-stdin", is_flag=True,
                  help="Lees het wachtwoord van de standaardinvoer (voor scripts) in plaats van het te vragen.")
    def create_user(email, naam, rol, organisatie_code, functie, wachtwoord_stdin):
        from sqlalchemy import func, select

        from .auth import hash_password
        from .extensions import db
        from .models import User
        from .passwords import password_problems
        from .services.audit import log_security

        email = email.strip().lower()
        if "@" not in email or len(email) > 200:
            _fail("vul een geldig e-mailadres in.")
        if db.session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
            _fail(f"er is al een gebruiker met e-mailadres {email}.")
        wanted_kind = ROLE_ORGANISATION.get(rol)
        if wanted_kind and not organisatie_code:
            _fail(f"een {rol} hoort bij een {wanted_kind}: geef --organisatie met de code.")
        if not wanted_kind and organisatie_code:
            _fail("een ouder hoort niet bij een organisatie (laat --organisatie weg).")
        org = _organisation(organisatie_code, wanted_kind) if wanted_kind else None
        if wachtwoord_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = click.prompt("Wachtwoord", hide_input=True, confirmation_prompt="Nog een keer")
        problems = password_problems(password, email=email, naam=naam)
        if problems:
            _fail(problems[0])
        user = User(email=email, naam=naam.strip(), role=rol, functie=functie,
                    organisation_id=org.id if org else None, password_hash=hash_password(password))
        db.session.add(user)
        db.session.flush()
        log_security("gebruiker_aangemaakt", None, detail=f"{user.id} {rol}", via="cli")
        from .services import beheer_log

        beheer_log.record(None, "gebruiker", user.id, "toegevoegd", f"{user.naam} <{user.email}>",
                          {**beheer_log.diff({}, beheer_log.fields(user, USER_FIELDS)),
                           "wachtwoord": [None, beheer_log.SECRET]},
                          gemeente_id=_gemeente_of(org))
        db.session.commit()
        click.echo(f"Gebruiker aangemaakt: {user.naam} <{user.email}>, {rol}"
                   + (f" bij {org.naam}" if org else "") + ".")
        if rol != "ouder":
            click.echo("Bij de eerste keer inloggen stelt de gebruiker de tweestapsverificatie in.")


    @admin_group.command("verify-changes", help="Controleer de keten van beheerwijzigingen: elke "
                                                "wijziging ongewijzigd, geen weggehaald of tussengevoegd.")
    def verify_changes():
        from .services import beheer_log

        result = beheer_log.verify()
        if result.ok:
            click.echo(f"In orde: {result.checked} beheerwijzigingen gecontroleerd.")
            return
        click.echo(f"Fout bij beheerwijziging {result.first_bad}: {result.reason} "
                   f"({result.checked} wijzigingen ervoor zijn in orde).", err=True)
        sys.exit(1)


# What a change record shows of an organisation and a user (never a password or secret).
ORGANISATION_FIELDS = ("kind", "naam", "code", "adres", "postcode_plaats", "telefoon", "email",
                       "vakantieregio", "gemeente_id")
USER_FIELDS = ("email", "naam", "functie", "telefoon", "role", "organisation_id", "active")


def _gemeente_of(org) -> int | None:
    """The gemeente whose beheerders see a change about (a user of) this organisation."""
    if org is None:
        return None
    if org.kind == "gemeente":
        return org.id
    if org.kind == "school":
        return org.gemeente_id
    served = org.gemeenten if org.kind == "swv" else org.jgz_gemeenten
    return served[0].id if served else None


def _exists(code: str) -> bool:
    from sqlalchemy import func, select

    from .extensions import db
    from .models import Organisation

    return db.session.scalar(select(Organisation.id).where(func.upper(Organisation.code) == code)) is not None
