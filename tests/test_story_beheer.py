"""A gemeente put into use without a developer: a beheerder made with `flask admin create-user`
signs in and sets up its second step, invites a leerplichtambtenaar, a jeugdarts, an SWV adviser
and a school on the web; each sets a password from the mail (through a real SMTP sink), sets up
the second step, and does its part of a vrijstelling: the parent's kennisgeving is taken in
behandeling, advice is asked and given, the verklaring makes the exemption."""
from __future__ import annotations

import re

import pyotp
from sqlalchemy import func, select, update

from casework.extensions import db
from casework.models import User
from conftest import api_token
from test_api_support import SAMENVATTING, Api
from test_passwords_bruteforce import smtp  # noqa: F401  the real SMTP sink fixture

PASSWORDS = {
    "beheer.nieuw@voorbeeldstad.test": "de toren van het stadhuis slaat twaalf",
    "lpa.nieuw@voorbeeldstad.test": "een fiets met drie wielen rijdt langzaam",
    "arts.nieuw@ggd-voorbeeld.test": "de wachtkamer heeft blauwe stoelen nu",
    "adviseur.nieuw@swv-voorbeeldregio.test": "onderwijs op maat voor ieder kind hier",
    "school.nieuw@devoorbeeld.test": "het schoolplein ligt vol met herfstbladeren",
}


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(func.lower(User.email) == email))


def _second_step(client, email: str) -> None:
    """Sign in with the password and set up the second step with the code of the new secret."""
    signed = client.post("/inloggen", data={"email": email, "wachtwoord": PASSWORDS[email]})
    assert signed.status_code == 302 and signed.location.endswith("/inloggen/instellen"), email
    client.get("/inloggen/instellen")
    db.session.expire_all()
    secret = _user(email).totp_pending_secret
    done = client.post("/inloggen/instellen", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and "Uw herstelcodes" in done.get_data(as_text=True), email


def _token(client, email: str) -> dict:
    # A code is good once per 30 seconds; the API token asks a fresh one as a later sign-in would.
    db.session.execute(update(User).where(User.email == email).values(totp_last_step=None))
    db.session.commit()
    user = _user(email)
    response = client.post("/api/v1/auth/token", json={
        "email": email, "password": PASSWORDS[email], "otp": pyotp.TOTP(user.totp_secret).now()})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def test_a_beheerder_from_the_cli_invites_the_team_and_they_make_an_exemption(app, demo, smtp):  # noqa: F811
    beheer = "beheer.nieuw@voorbeeldstad.test"
    result = app.test_cli_runner().invoke(args=[
        "admin", "create-user", "--email", beheer, "--naam", "Nina de Beheerder", "--rol", "beheerder",
        "--organisatie", "GM9001", "--wachtwoord-stdin"], input=PASSWORDS[beheer] + "\n")
    assert result.exit_code == 0, result.output
    beheerder = app.test_client()
    _second_step(beheerder, beheer)

    team = [("Lotte Leerplicht", "lpa.nieuw@voorbeeldstad.test", "leerplichtambtenaar", demo.voorbeeldstad),
            ("Arend Arts", "arts.nieuw@ggd-voorbeeld.test", "jeugdarts", demo.ggd),
            ("Ada Adviseur", "adviseur.nieuw@swv-voorbeeldregio.test", "swv_adviseur", demo.swv_regio),
            ("Sanne School", "school.nieuw@devoorbeeld.test", "school",
             db.session.scalar(select(type(demo.ggd)).where(type(demo.ggd).code == "99AA")))]
    clients = {}
    for naam, email, rol, org in team:
        sent = beheerder.post("/beheer/gebruikers/nieuw", data={
            "naam": naam, "email": email, "rol": rol, "organisatie": str(org.id), "manier": "email"})
        assert sent.status_code == 302, sent.get_data(as_text=True)
        message = smtp.messages[-1]
        assert message["To"] == email and message["Subject"] == "Uitnodiging voor Casework"
        link = re.search(r"http://localhost(/uitnodiging/\S+)",
                         message.get_body(("plain",)).get_content()).group(1)
        person = app.test_client()
        chosen = person.post(link, data={"nieuw": PASSWORDS[email], "herhaal": PASSWORDS[email]})
        assert chosen.status_code == 302, email
        _second_step(person, email)
        clients[rol] = person
    assert len(smtp.messages) == 4

    lpa, arts, swv, school = (_user(e) for _, e, _, _ in team)
    assert {u.email: u.role for u in (lpa, arts, swv, school)} == {e: r for _, e, r, _ in team}
    api = Api(app.test_client(), demo)
    headers = {rol: _token(api.client, e) for _, e, rol, _ in team}

    def fire(rol, case_id, event, **payload):
        response = api.client.post(f"/api/v1/cases/{case_id}/events/{event}", json=payload, headers=headers[rol])
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    # The parent (a demo account) files the kennisgeving; the new team does the rest.
    api._headers["ouder1"] = api_token(api.client, "ouder1@voorbeeld.test")
    case = api.file("ouder1")
    listed = api.client.get("/api/v1/cases", headers=headers["leerplichtambtenaar"]).get_json()
    assert case["id"] in [c["id"] for c in listed["items"]]
    case = fire("leerplichtambtenaar", case["id"], "neem_in_behandeling", deskundige_id=arts.id)
    assert case["state"] == "in_behandeling"
    case = fire("jeugdarts", case["id"], "vraag_advies", swv_id=demo.swv_regio.id, toestemming=False,
                toestemming_door="ouder", samenvatting=SAMENVATTING)
    assert case["state"] == "advies_gevraagd"
    seen = api.client.get(f"/api/v1/cases/{case['id']}", headers=headers["swv_adviseur"])
    assert seen.status_code == 200 and seen.get_json()["child"] is None  # no consent: no identity
    case = fire("swv_adviseur", case["id"], "breng_advies_uit", soort="algemeen",
                advies="Digitaal afstandsonderwijs is mogelijk.", mogelijkheden=["Digitaal afstandsonderwijs"])
    assert case["state"] == "advies_uitgebracht"
    case = fire("jeugdarts", case["id"], "geef_verklaring", **api.verklaring(geschikt=False))
    assert case["state"] == "vrijgesteld"

    history = api.client.get(f"/api/v1/cases/{case['id']}/audit", headers=headers["leerplichtambtenaar"]).get_json()
    assert [r["actor_id"] for r in history["items"]] == [demo.ouder1.id, lpa.id, arts.id, swv.id, arts.id]
    # The school sees its own pupils, not this case (a vrijstelling is not the school's business).
    pupils = api.client.get("/api/v1/children", headers=headers["school"]).get_json()
    assert demo.sam.id in [c["id"] for c in pupils["items"]]
    assert api.client.get(f"/api/v1/cases/{case['id']}", headers=headers["school"]).status_code == 404
