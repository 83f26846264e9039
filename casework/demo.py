"""Demo data as api.md lists it. Idempotent: every row is found by its natural key first."""
from __future__ import annotations

from datetime import date

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from flask import current_app
from sqlalchemy import select

from .auth import hash_password
from .extensions import db
from .models import Child, Organisation, User, utcnow

ORGANISATIONS = [
    # kind, code, naam, adres, postcode_plaats, telefoon, email
    ("gemeente", "GM9001", "Gemeente Voorbeeldstad", "Raadhuisplein 1", "1234 AB Voorbeeldstad",
     "14 0123", "leerplicht@voorbeeldstad.test"),
    ("gemeente", "GM9002", "Gemeente Buurdorp", "Dorpsstraat 10", "1240 CD Buurdorp",
     "14 0124", "leerplicht@buurdorp.test"),
    ("swv", "SWV9001", "SWV Voorbeeldregio", "Schoolweg 5", "1234 EF Voorbeeldstad",
     "030 123 45 67", "info@swv-voorbeeldregio.test"),
    ("swv", "SWV9002", "SWV Naburige Regio", "Havenkade 2", "1300 GH Naburig",
     "030 765 43 21", "info@swv-naburig.test"),
    ("jgz", "JGZ9001", "GGD Voorbeeld", "Gezondheidslaan 3", "1234 IJ Voorbeeldstad",
     "030 111 22 33", "jgz@ggd-voorbeeld.test"),
    ("school", "99AA", "Basisschool De Voorbeeld", "Leerpad 8", "1234 KL Voorbeeldstad",
     "030 222 33 44", "info@devoorbeeld.test"),
    ("school", "99BB", "Voorbeeld College", "Campuslaan 1", "1240 MN Buurdorp",
     "030 333 44 55", "info@voorbeeldcollege.test"),
]

USERS = [
    # email, naam, functie, role, organisation code
    ("leerplicht@voorbeeldstad.test", "Femke de Leeuw", "Leerplichtambtenaar", "leerplichtambtenaar", "GM9001"),
    ("leerplicht@buurdorp.test", "Jeroen Bakker", "Leerplichtambtenaar", "leerplichtambtenaar", "GM9002"),
    ("jeugdarts@ggd-voorbeeld.test", "Dr. Aisha Bouzid", "Jeugdarts", "jeugdarts", "JGZ9001"),
    ("adviseur@swv-voorbeeldregio.test", "Marieke Visser", "Adviseur passend onderwijs", "swv_adviseur", "SWV9001"),
    ("adviseur@swv-naburig.test", "Ruben Smit", "Adviseur passend onderwijs", "swv_adviseur", "SWV9002"),
    ("ouder1@voorbeeld.test", "Petra Jansen", "", "ouder", None),
    ("ouder2@voorbeeld.test", "Karim de Vries", "", "ouder", None),
    ("school@devoorbeeld.test", "Tom Mulder", "Verzuimcoördinator", "school", "99AA"),
    ("school@voorbeeldcollege.test", "Ilse Koster", "Verzuimcoördinator", "school", "99BB"),
    ("beheer@voorbeeldstad.test", "Bas Hendriks", "Functioneel beheerder", "beheerder", "GM9001"),
]

CHILDREN = [
    # bsn, voornaam, achternaam, geboortedatum, geslacht, adres, postcode_plaats, gemeente, school, ouder
    ("100023757", "Sam", "Jansen", date(2017, 3, 14), "M", "Lindelaan 12", "1234 AC Voorbeeldstad",
     "GM9001", "99AA", "ouder1@voorbeeld.test"),
    ("100039595", "Lotte", "Jansen", date(2019, 6, 1), "V", "Lindelaan 12", "1234 AC Voorbeeldstad",
     "GM9001", "99AA", "ouder1@voorbeeld.test"),
    ("100126704", "Daan", "Jansen", date(2015, 11, 30), "M", "Lindelaan 12", "1234 AC Voorbeeldstad",
     "GM9001", "99AA", "ouder1@voorbeeld.test"),
    ("100174218", "Noor", "de Vries", date(2012, 9, 2), "V", "Kerkstraat 4", "1240 CE Buurdorp",
     "GM9002", "99BB", "ouder2@voorbeeld.test"),
]

PARENT_ADDRESS = {
    "ouder1@voorbeeld.test": ("Lindelaan 12", "1234 AC Voorbeeldstad"),
    "ouder2@voorbeeld.test": ("Kerkstraat 4", "1240 CE Buurdorp"),
}


def _password_ok(stored: str, password: str) -> bool:
    try:
        return PasswordHasher().verify(stored, password)
    except VerificationError:
        return False
    except Exception:  # noqa: BLE001 - an unreadable hash is simply replaced
        return False


def load_demo(with_cases: bool = False) -> str:
    """The demo organisations, users and children; with_cases: also the demo's cases
    (casework/demo_cases.py), as `flask demo` loads them. The tests start from the plain demo."""
    password = current_app.config["DEMO_PASSWORD"]
    orgs: dict[str, Organisation] = {}
    created = {"organisaties": 0, "gebruikers": 0, "kinderen": 0}
    for kind, code, naam, adres, pc, tel, email in ORGANISATIONS:
        org = db.session.scalar(select(Organisation).where(Organisation.code == code))
        if org is None:
            org = Organisation(code=code, kind=kind)
            db.session.add(org)
            created["organisaties"] += 1
        org.naam, org.adres, org.postcode_plaats, org.telefoon, org.email = naam, adres, pc, tel, email
        orgs[code] = org
    db.session.flush()
    voorbeeldstad, buurdorp = orgs["GM9001"], orgs["GM9002"]
    orgs["99AA"].gemeente_id = voorbeeldstad.id
    orgs["99BB"].gemeente_id = buurdorp.id
    for school in ("99AA", "99BB"):  # region midden, unless the beheerder chose another since
        orgs[school].vakantieregio = orgs[school].vakantieregio or "midden"
    orgs["SWV9001"].gemeenten = [voorbeeldstad, buurdorp]
    orgs["SWV9001"].buren = [orgs["SWV9002"]]
    orgs["SWV9002"].buren = [orgs["SWV9001"]]
    orgs["JGZ9001"].jgz_gemeenten = [voorbeeldstad, buurdorp]

    users: dict[str, User] = {}
    for email, naam, functie, role, code in USERS:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, password_hash=hash_password(password))
            db.session.add(user)
            created["gebruikers"] += 1
        elif not _password_ok(user.password_hash, password):
            user.password_hash = hash_password(password)
        user.naam, user.functie, user.role, user.active = naam, functie, role, True
        user.organisation_id = orgs[code].id if code else None
        if email in PARENT_ADDRESS:
            user.adres, user.postcode_plaats = PARENT_ADDRESS[email]
        if role != "ouder" and user.totp_secret is None:
            # Demo professionals have the second step set up with the documented demo secret.
            user.totp_secret = current_app.config["DEMO_TOTP_SECRET"]
            user.totp_enrolled_at = utcnow()
        users[email] = user
    db.session.flush()

    for bsn, vn, an, gd, sex, adres, pc, gm, school, ouder in CHILDREN:
        # The demo gemeente's own record of this child (each gemeente keeps its own).
        child = db.session.scalar(select(Child).where(Child.bsn == bsn, Child.gemeente_id == orgs[gm].id))
        if child is None:
            child = Child(bsn=bsn)
            db.session.add(child)
            created["kinderen"] += 1
        child.voornaam, child.achternaam, child.geboortedatum, child.geslacht = vn, an, gd, sex
        child.adres, child.postcode_plaats = adres, pc
        child.gemeente_id, child.school_id = orgs[gm].id, orgs[school].id
        if users[ouder] not in child.parents:
            child.parents.append(users[ouder])
    db.session.commit()
    lines = []
    if with_cases:
        from .demo_cases import load_demo_cases

        made, children, skipped = load_demo_cases()
        created["kinderen"] += children
        created["zaken"] = made
        lines = [f"Niet gemaakt: {reason}" for reason in skipped]
    parts = ", ".join(f"{n} {k} nieuw" for k, n in created.items())
    return "\n".join([f"Demodata staat klaar ({parts}). Wachtwoord van elke demogebruiker: "
                      "CASEWORK_DEMO_PASSWORD.", *lines])
