"""The beheerder's users, children and parent links, and the record of changes: invitations by
mail (through a real SMTP sink) and by one-time code, deactivation that ends sessions and
tokens at once, scope (another gemeente's accounts and children are 404), Dutch errors that
change nothing, and every change recorded old -> new in a chain that cannot be rewritten."""
from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select, text

from casework.extensions import db
from casework.models import AccessLog, AdminChange, Child, PasswordResetToken, User
from conftest import api_token, web_login, web_signed_in
from factories import make_user
from test_passwords_bruteforce import smtp  # noqa: F401  the real SMTP sink fixture

BEHEER = "beheer@voorbeeldstad.test"
NEW = "de kastanjeboom bloeit in mei weer"


def page_text(response) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def changes(**where) -> list[AdminChange]:
    return list(db.session.scalars(select(AdminChange).filter_by(**where).order_by(AdminChange.seq)))


def user_by(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email))


def invite(client, demo, manier="email", **over):
    data = {"naam": "Ilse Bakker", "email": "ilse.bakker@voorbeeldstad.test", "rol": "leerplichtambtenaar",
            "organisatie": str(demo.voorbeeldstad.id), "functie": "Leerplichtambtenaar",
            "telefoon": "0101234567", "manier": manier, **over}
    return client.post("/beheer/gebruikers/nieuw", data=data)


def _link(message) -> str:
    body = message.get_body(("plain",)).get_content()
    return re.search(r"http://localhost(/uitnodiging/\S+)", body).group(1)


# ------------------------------------------------------------------ invitations

def test_an_invitation_by_mail_lets_the_new_user_choose_a_password_once(app, client, demo, smtp):  # noqa: F811
    web_signed_in(client, BEHEER)
    response = invite(client, demo)
    assert response.status_code == 302
    user = user_by("ilse.bakker@voorbeeldstad.test")
    assert (user.role, user.organisation_id, user.active) == ("leerplichtambtenaar", demo.voorbeeldstad.id, True)
    assert "uitgenodigd" in page_text(client.get("/beheer/gebruikers"))

    [message] = smtp.messages
    assert message["To"] == "ilse.bakker@voorbeeldstad.test"
    assert message["Subject"] == "Uitnodiging voor Casework"
    body = message.get_body(("plain",)).get_content()
    assert "Bas Hendriks nodigt u uit" in body and "leerplichtambtenaar bij Gemeente Voorbeeldstad" in body
    assert "7 dagen" in body

    link = _link(message)
    invited = app.test_client()
    page = invited.get(link)
    assert page.status_code == 200 and "Welkom, Ilse Bakker" in page_text(page)
    weak = invited.post(link, data={"nieuw": "kort", "herhaal": "kort"})
    assert weak.status_code == 422 and "te kort" in page_text(weak)
    done = invited.post(link, data={"nieuw": NEW, "herhaal": NEW})
    assert done.status_code == 302 and done.location.endswith("/inloggen")
    # The password works (the next step is setting up the second step), the link does not any more.
    signed = invited.post("/inloggen", data={"email": "ilse.bakker@voorbeeldstad.test", "wachtwoord": NEW})
    assert signed.status_code == 302 and signed.location.endswith("/inloggen/instellen")
    assert app.test_client().get(link).status_code == 404
    assert "actief" in page_text(client.get("/beheer/gebruikers"))

    [record] = changes(onderwerp="gebruiker", onderwerp_id=user.id)
    assert record.actie == "uitgenodigd" and record.actor_id == demo.beheerder.id
    assert record.wijzigingen["role"] == [None, "leerplichtambtenaar"]
    assert record.wijzigingen["uitnodiging"] == [None, "e-mail"]
    assert NEW not in str(record.wijzigingen)


def test_an_invitation_by_code_is_shown_once_and_needs_the_right_address(app, client, demo, smtp):  # noqa: F811
    web_signed_in(client, BEHEER)
    response = invite(client, demo, manier="code", email="arts.nieuw@ggd-voorbeeld.test", rol="jeugdarts",
                      organisatie=str(demo.ggd.id))
    assert response.status_code == 200
    code = re.search(r'id="uitnodigingscode"><strong>([A-Z0-9-]+)<', response.get_data(as_text=True)).group(1)
    assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", code)
    assert smtp.messages == []  # no mail: the beheerder passes the code on
    row = db.session.scalar(select(PasswordResetToken).where(PasswordResetToken.soort == "code"))
    assert code.replace("-", "") not in row.token_hash  # only a hash is kept

    person = app.test_client()
    wrong = person.post("/uitnodiging", data={"email": "iemand.anders@ggd-voorbeeld.test", "code": code})
    assert wrong.status_code == 422 and "Deze code werkt niet" in page_text(wrong)
    step = person.post("/uitnodiging", data={"email": "arts.nieuw@ggd-voorbeeld.test", "code": code.lower()})
    assert step.status_code == 200 and "Welkom" in page_text(step)
    done = person.post("/uitnodiging", data={"email": "arts.nieuw@ggd-voorbeeld.test", "code": code,
                                             "nieuw": NEW, "herhaal": NEW})
    assert done.status_code == 302
    again = person.post("/uitnodiging", data={"email": "arts.nieuw@ggd-voorbeeld.test", "code": code})
    assert again.status_code == 422  # a code works once
    signed = person.post("/inloggen", data={"email": "arts.nieuw@ggd-voorbeeld.test", "wachtwoord": NEW})
    assert signed.status_code == 302


@pytest.mark.parametrize("over, field_error", [
    ({"rol": "jeugdarts"}, "Een jeugdarts werkt voor een jgz, niet voor een gemeente."),
    ({"email": "leerplicht@voorbeeldstad.test"}, "Dit e-mailadres heeft al een account."),
    ({"email": "geen-adres"}, "Vul een geldig e-mailadres in"),
    ({"naam": ""}, "Vul de naam in."),
    ({"rol": "ouder"}, "Kies een van de rollen uit de lijst."),
])
def test_a_wrong_invitation_names_what_is_wrong_and_changes_nothing(client, demo, smtp, over, field_error):  # noqa: F811
    web_signed_in(client, BEHEER)
    users_before = db.session.scalar(select(func.count(User.id)))
    response = invite(client, demo, **over)
    assert response.status_code == 422
    body = page_text(response)
    assert field_error in body and 'role="alert"' in response.get_data(as_text=True)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == users_before
    assert changes(onderwerp="gebruiker") == [] and smtp.messages == []


def test_an_organisation_outside_the_gemeente_cannot_be_chosen(client, demo):
    from casework.models import Organisation

    web_signed_in(client, BEHEER)
    other_school = Organisation(kind="school", code="77ZZ", naam="School elders", gemeente_id=demo.buurdorp.id)
    db.session.add(other_school)
    db.session.commit()
    response = invite(client, demo, rol="school", organisatie=str(other_school.id))
    assert response.status_code == 422 and "Kies een organisatie uit de lijst." in page_text(response)
    assert user_by("ilse.bakker@voorbeeldstad.test") is None


# ------------------------------------------------------------------ change, deactivate, scope

def test_deactivating_ends_every_session_and_token_at_once(app, client, demo):
    headers = api_token(client, "leerplicht@voorbeeldstad.test")
    lpa_browser = app.test_client()
    web_signed_in(lpa_browser, "leerplicht@voorbeeldstad.test")
    web_signed_in(client, BEHEER)

    confirm = client.get(f"/beheer/gebruikers/{demo.lpa.id}/deactiveren")
    assert confirm.status_code == 200 and "Ja, deactiveer dit account" in page_text(confirm)
    assert client.post(f"/beheer/gebruikers/{demo.lpa.id}/deactiveren").status_code == 302
    assert lpa_browser.get("/zaken").status_code == 302  # back to sign-in
    assert client.get("/api/v1/cases", headers=headers).status_code == 401
    refused = app.test_client().post("/inloggen", data={"email": "leerplicht@voorbeeldstad.test",
                                                        "wachtwoord": "demo"})
    assert refused.status_code != 302
    [record] = changes(onderwerp="gebruiker", actie="gedeactiveerd")
    assert record.wijzigingen == {"active": [True, False]} and record.onderwerp_id == demo.lpa.id

    assert client.post(f"/beheer/gebruikers/{demo.lpa.id}/activeren").status_code == 302
    db.session.refresh(demo.lpa)
    assert demo.lpa.active
    assert web_login(app.test_client(), "leerplicht@voorbeeldstad.test").status_code == 302


def test_a_beheerder_cannot_deactivate_itself_or_take_away_its_own_role(client, demo):
    web_signed_in(client, BEHEER)
    client.post(f"/beheer/gebruikers/{demo.beheerder.id}/deactiveren")
    db.session.refresh(demo.beheerder)
    assert demo.beheerder.active
    response = client.post(f"/beheer/gebruikers/{demo.beheerder.id}/wijzigen", data={
        "naam": demo.beheerder.naam, "email": BEHEER, "rol": "leerplichtambtenaar",
        "organisatie": str(demo.voorbeeldstad.id)})
    assert response.status_code == 422 and "U kunt uw eigen rol niet wijzigen" in page_text(response)


def test_changing_a_role_is_recorded_old_to_new_and_signs_the_user_out(app, client, demo):
    lpa_browser = app.test_client()
    web_signed_in(lpa_browser, "leerplicht@voorbeeldstad.test")
    web_signed_in(client, BEHEER)
    response = client.post(f"/beheer/gebruikers/{demo.lpa.id}/wijzigen", data={
        "naam": "Femke de Leeuw", "email": "leerplicht@voorbeeldstad.test", "rol": "beheerder",
        "organisatie": str(demo.voorbeeldstad.id), "functie": "Leerplichtambtenaar", "telefoon": "010 1112233"})
    assert response.status_code == 302
    [record] = changes(onderwerp="gebruiker", actie="gewijzigd")
    assert record.wijzigingen["role"] == ["leerplichtambtenaar", "beheerder"]
    assert "naam" not in record.wijzigingen
    assert lpa_browser.get("/zaken").status_code == 302
    listing = page_text(client.get("/beheer/wijzigingen"))
    assert "Gebruiker gewijzigd: Femke de Leeuw" in listing and "rol: leerplichtambtenaar → beheerder" in listing


def test_another_gemeente_and_other_roles_get_nothing(client, demo):
    make_user("beheer@buurdorp.test", "beheerder", demo.buurdorp)
    assert web_login(client, "beheer@buurdorp.test", "test-wachtwoord").status_code == 302
    assert client.get(f"/beheer/gebruikers/{demo.lpa.id}/wijzigen").status_code == 404
    assert client.post(f"/beheer/gebruikers/{demo.lpa.id}/deactiveren").status_code == 404
    assert client.get(f"/beheer/kinderen/{demo.sam.id}").status_code == 404
    assert "Femke de Leeuw" not in page_text(client.get("/beheer/gebruikers"))
    db.session.refresh(demo.lpa)
    assert demo.lpa.active

    lpa = client.application.test_client()
    web_signed_in(lpa, "leerplicht@voorbeeldstad.test")
    for path in ("/beheer/gebruikers/nieuw", "/beheer/kinderen", "/beheer/wijzigingen",
                 f"/beheer/gebruikers/{demo.school.id}/wijzigen"):
        assert lpa.get(path).status_code == 403, path


# ------------------------------------------------------------------ children and parents

def test_find_a_child_by_bsn_and_link_a_new_parent_who_is_invited(app, client, demo, smtp):  # noqa: F811
    web_signed_in(client, BEHEER)
    missing = client.get("/beheer/kinderen?bsn=12345")
    assert missing.status_code == 422 and "Een BSN bestaat uit 9 cijfers." in page_text(missing)
    found = client.get(f"/beheer/kinderen?bsn={demo.sam.bsn}")
    assert found.status_code == 302 and found.location.endswith(f"/beheer/kinderen/{demo.sam.id}")
    page = page_text(client.get(found.location))
    assert "Sam Jansen" in page and "ouder1@voorbeeld.test" in page
    assert "kennisgeving" not in page.lower()  # no case content for the beheerder
    assert db.session.scalar(select(AccessLog.id).where(AccessLog.what == "beheer-kind",
                                                        AccessLog.child_id == demo.sam.id)) is not None

    no_name = client.post(f"/beheer/kinderen/{demo.sam.id}/ouders", data={"email": "pleegouder@voorbeeld.test"})
    assert no_name.status_code == 422 and "vul de naam in" in page_text(no_name)
    staff = client.post(f"/beheer/kinderen/{demo.sam.id}/ouders", data={"email": "leerplicht@voorbeeldstad.test"})
    assert staff.status_code == 422 and "hoort bij een medewerker" in page_text(staff)
    assert smtp.messages == []

    done = client.post(f"/beheer/kinderen/{demo.sam.id}/ouders",
                       data={"email": "pleegouder@voorbeeld.test", "naam": "Kim Pleeg"})
    assert done.status_code == 302
    parent = user_by("pleegouder@voorbeeld.test")
    assert parent.role == "ouder" and parent in db.session.get(Child, demo.sam.id).parents
    [message] = smtp.messages
    assert message["To"] == "pleegouder@voorbeeld.test" and "zaken over de leerplicht van uw kind" in \
        message.get_body(("plain",)).get_content()
    [record] = changes(onderwerp="ouder", actie="gekoppeld")
    assert record.wijzigingen["ouders"] == [None, "pleegouder@voorbeeld.test"]

    # Unlinking behind a confirmation: the parent no longer sees the child.
    confirm = client.get(f"/beheer/kinderen/{demo.sam.id}/ouders/{demo.ouder1.id}/ontkoppelen")
    assert "Ja, ontkoppel deze ouder" in page_text(confirm)
    assert client.post(f"/beheer/kinderen/{demo.sam.id}/ouders/{demo.ouder1.id}/ontkoppelen").status_code == 302
    db.session.expire_all()
    assert demo.ouder1 not in db.session.get(Child, demo.sam.id).parents
    headers = api_token(app.test_client(), "ouder1@voorbeeld.test")
    kids = app.test_client().get("/api/v1/children", headers=headers).get_json()["items"]
    assert "Sam" not in {k["voornaam"] for k in kids}
    [record] = changes(onderwerp="ouder", actie="ontkoppeld")
    assert record.wijzigingen["ouders"] == ["ouder1@voorbeeld.test", None]


def test_register_a_child_on_the_web(client, demo):
    web_signed_in(client, BEHEER)
    form = {"bsn": "123456782", "voornaam": "Mila", "achternaam": "Visser", "geboortedatum": "2016-03-04",
            "geslacht": "V", "school": ""}
    bad = client.post("/beheer/kinderen/nieuw", data={**form, "bsn": "123456789"})
    assert bad.status_code == 422 and "Dit is geen geldig BSN" in page_text(bad)
    assert db.session.scalar(select(Child.id).where(Child.voornaam == "Mila")) is None
    ok = client.post("/beheer/kinderen/nieuw", data=form)
    assert ok.status_code == 302
    child = db.session.scalar(select(Child).where(Child.voornaam == "Mila"))
    assert child.gemeente_id == demo.voorbeeldstad.id
    [record] = changes(onderwerp="kind", actie="toegevoegd")
    assert record.wijzigingen["bsn"] == [None, "123456782"]
    twice = client.post("/beheer/kinderen/nieuw", data=form)
    assert twice.status_code == 422 and "Er is al een kind met dit BSN" in page_text(twice)


# ------------------------------------------------------------------ the record itself

def test_the_record_is_a_chain_that_cannot_be_changed(app, client, demo):
    from casework.services import beheer_log

    web_signed_in(client, BEHEER)
    for n in range(3):
        client.post(f"/beheer/gebruikers/{demo.lpa.id}/wijzigen", data={
            "naam": f"Femke de Leeuw {n}", "email": "leerplicht@voorbeeldstad.test", "rol": "leerplichtambtenaar",
            "organisatie": str(demo.voorbeeldstad.id)})
    result = beheer_log.verify()
    assert result.ok and result.checked == 3
    seqs = [r.seq for r in changes()]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    for statement in ("UPDATE beheer_wijzigingen SET omschrijving = 'niets'",
                      "DELETE FROM beheer_wijzigingen"):
        with pytest.raises(Exception, match="append-only|permission denied"):
            with db.session.begin_nested():
                db.session.execute(text(statement))
    assert beheer_log.verify().ok


def test_verify_names_a_changed_row(app, client, demo, monkeypatch):
    from casework.services import beheer_log

    web_signed_in(client, BEHEER)
    for n in range(2):
        client.post(f"/beheer/gebruikers/{demo.lpa.id}/wijzigen", data={
            "naam": f"Naam {n}", "email": "leerplicht@voorbeeldstad.test", "rol": "leerplichtambtenaar",
            "organisatie": str(demo.voorbeeldstad.id)})
    real = beheer_log.row_mac

    def tampered(key, row):  # as if row 1 had been rewritten in the database
        return real(key, {**row, "omschrijving": "anders"}) if row["seq"] == 1 else real(key, row)

    monkeypatch.setattr(beheer_log, "row_mac", tampered)
    result = beheer_log.verify()
    assert not result.ok and result.first_bad == 1 and "inhoud" in result.reason


def test_a_gemeente_sees_only_its_own_changes(client, demo):
    web_signed_in(client, BEHEER)
    client.post(f"/beheer/gebruikers/{demo.lpa.id}/wijzigen", data={
        "naam": "Femke van Dam", "email": "leerplicht@voorbeeldstad.test", "rol": "leerplichtambtenaar",
        "organisatie": str(demo.voorbeeldstad.id)})
    assert "Femke van Dam" in page_text(client.get("/beheer/wijzigingen"))
    make_user("beheer@buurdorp.test", "beheerder", demo.buurdorp)
    other = client.application.test_client()
    assert web_login(other, "beheer@buurdorp.test", "test-wachtwoord").status_code == 302
    body = page_text(other.get("/beheer/wijzigingen"))
    assert "Femke van Dam" not in body and "Er is nog niets gewijzigd." in body
