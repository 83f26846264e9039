"""The beheerder's invitations in a real headless Chromium: by mail (through a real SMTP sink,
aiosmtpd on localhost) and by one-time code. The invited person chooses a password in a browser
of their own and goes on to set up the second step; the link and the code work once; the
Gebruikers list shows "uitgenodigd", then "actief"; every invitation is a recorded change."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from casework.extensions import db
from test_browser import launch_chromium, log_in, serve
from test_browser_passwords import mail_app, sink  # noqa: F401  the real SMTP sink fixture

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

BEHEER = "beheer@voorbeeldstad.test"
NEW = "mijn fiets staat achter het gemeentehuis"


@pytest.fixture
def invite_app(app, tmp_path, sink):
    with mail_app(tmp_path, sink, "casework_browser_uitnodiging") as browser_app:
        yield browser_app


@pytest.fixture
def browser(invite_app):
    with serve(invite_app, "casework-uitnodiging-server") as url, launch_chromium() as chromium:
        def new_page():
            """A page in a context of its own: no cookies shared with another person's."""
            context = chromium.new_context(base_url=url, locale="nl-NL", viewport={"width": 1280, "height": 900})
            context.set_default_timeout(15_000)
            return context.new_page()

        yield new_page


@pytest.fixture
def beheerder(browser):
    page = browser()
    log_in(page, BEHEER)
    return page


def invite(page, naam: str, email: str, manier: str) -> None:
    """Gebruikers -> Gebruiker uitnodigen, fill the form as a leerplichtambtenaar of the gemeente."""
    from playwright.sync_api import expect

    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Gebruikers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gebruikers")
    page.get_by_role("link", name="Gebruiker uitnodigen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gebruiker uitnodigen")
    page.get_by_label("Naam", exact=True).fill(naam)
    page.get_by_label("E-mailadres", exact=True).fill(email)
    page.get_by_label("Rol", exact=True).select_option(label="Leerplichtambtenaar")
    page.get_by_label("Organisatie", exact=True).select_option(label="Gemeente Voorbeeldstad (Gemeente)")
    page.get_by_label("Functie", exact=True).fill("Leerplichtambtenaar")
    choice = "^Per e-mail" if manier == "email" else "^Met een eenmalige code"
    page.get_by_role("radio", name=re.compile(choice)).check()
    page.get_by_role("button", name="Uitnodigen").click()


def status_on_list(page, naam: str):
    """The Status cell of `naam`'s row on the Gebruikers list (4th column)."""
    page.goto("/beheer/gebruikers")
    return page.get_by_role("row").filter(has_text=naam).get_by_role("cell").nth(3)


def choose_password_and_sign_in(page, naam: str, email: str) -> None:
    """On the "Welkom" page: the password rules, then the passphrase; sign in; the second step is next."""
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welkom, {naam}")
    page.get_by_label("Nieuw wachtwoord", exact=True).fill(NEW)
    page.get_by_label("Nieuw wachtwoord nog een keer").fill(NEW)
    page.get_by_role("button", name="Wachtwoord opslaan").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Uw wachtwoord is ingesteld. Log nu in met uw e-mailadres en dit wachtwoord. "
        "Daarna stelt u de tweestapsverificatie in.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord", exact=True).fill(NEW)
    page.get_by_label("Wachtwoord", exact=True).press("Enter")
    expect(page).to_have_url(re.compile(r"/inloggen/instellen$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Tweestapsverificatie instellen")


def recorded(invite_app, email: str):
    """The change records about the user with this address, and the beheerder's id."""
    from casework.models import AdminChange, User

    with invite_app.app_context():
        user_id = db.session.scalar(select(User.id).where(func.lower(User.email) == email))
        beheer_id = db.session.scalar(select(User.id).where(User.email == BEHEER))
        found = [(r.actie, r.actor_id, r.omschrijving, r.wijzigingen) for r in db.session.scalars(
            select(AdminChange).where(AdminChange.onderwerp == "gebruiker", AdminChange.onderwerp_id == user_id)
            .order_by(AdminChange.seq))]
        db.session.remove()
        return found, beheer_id


def test_an_invitation_by_mail_is_a_link_that_works_once(beheerder, browser, sink, invite_app):
    from playwright.sync_api import expect

    invite(beheerder, "Ilse Bakker", "ilse.bakker@voorbeeldstad.test", "email")
    expect(beheerder.get_by_role("status")).to_contain_text(
        "Gelukt: Ilse Bakker is uitgenodigd. De e-mail met de link gaat naar ilse.bakker@voorbeeldstad.test. "
        "De link werkt 7 dagen.")
    expect(beheerder.get_by_role("heading", level=1)).to_have_text("Gebruikers")
    expect(status_on_list(beheerder, "Ilse Bakker")).to_have_text("uitgenodigd")

    [message] = sink.messages
    assert message["To"] == "ilse.bakker@voorbeeldstad.test"
    assert message["Subject"] == "Uitnodiging voor Casework"
    body = message.get_body(("plain",)).get_content()
    assert body.startswith("Beste Ilse Bakker,")
    assert "Bas Hendriks nodigt u uit voor Casework, als leerplichtambtenaar bij Gemeente Voorbeeldstad." in body
    assert "De link werkt 7 dagen en maar één keer." in body
    assert "stelt u ook een app in voor de tweede stap" in body
    link = re.search(r"http://127\.0\.0\.1:\d+/uitnodiging/[\w-]+", body).group(0)
    assert NEW not in body

    invited = browser()
    invited.goto(link)
    choose_password_and_sign_in(invited, "Ilse Bakker", "ilse.bakker@voorbeeldstad.test")

    again = browser()
    again.goto(link)  # the link worked once
    expect(again.get_by_role("heading", level=1)).to_have_text("Deze link werkt niet meer")
    expect(again.get_by_role("main")).to_contain_text("De link is al gebruikt, of hij is verlopen.")

    expect(status_on_list(beheerder, "Ilse Bakker")).to_have_text("actief")
    [(actie, actor, omschrijving, wijzigingen)], beheer_id = recorded(invite_app, "ilse.bakker@voorbeeldstad.test")
    assert (actie, actor, omschrijving) == ("uitgenodigd", beheer_id, "Ilse Bakker <ilse.bakker@voorbeeldstad.test>")
    assert wijzigingen["uitnodiging"] == [None, "e-mail"]
    assert wijzigingen["role"] == [None, "leerplichtambtenaar"]
    assert NEW not in str(wijzigingen)
    assert len(sink.messages) == 1  # nothing else was sent


def test_an_invitation_by_code_is_shown_once_and_a_wrong_code_changes_nothing(beheerder, browser, sink,
                                                                               invite_app):
    from playwright.sync_api import expect

    invite(beheerder, "Daan Smit", "daan.smit@voorbeeldstad.test", "code")
    expect(beheerder.get_by_role("heading", level=1)).to_have_text("Code voor Daan Smit")
    expect(beheerder.get_by_role("status").filter(has_text="uitgenodigd")).to_contain_text(
        "Daan Smit is uitgenodigd. Geef deze code door")
    code = beheerder.locator("#uitnodigingscode").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", code)
    expect(beheerder.get_by_role("main")).to_contain_text("U ziet deze code maar één keer")
    assert sink.messages == []  # no mail: the beheerder passes the code on
    expect(status_on_list(beheerder, "Daan Smit")).to_have_text("uitgenodigd")
    expect(beheerder.get_by_role("main")).not_to_contain_text(code)  # shown once, not on the list

    person = browser()
    person.goto("/inloggen")
    person.get_by_role("link", name="Uitnodiging met code gebruiken").click()
    expect(person.get_by_role("heading", level=1)).to_have_text("Uitnodiging gebruiken")
    wrong = ("ZZZZ" if not code.startswith("ZZZZ") else "YYYY") + code[4:]
    person.get_by_label("E-mailadres").fill("daan.smit@voorbeeldstad.test")
    person.get_by_label("Code").fill(wrong)
    person.get_by_role("button", name="Verder").click()
    alert = person.get_by_role("alert")
    expect(alert).to_contain_text("De code werkt niet.")
    expect(alert).to_contain_text("Deze code werkt niet: kijk of u hem goed heeft overgenomen")
    expect(person.get_by_role("heading", level=1)).to_have_text("Uitnodiging gebruiken")
    expect(person.get_by_label("Code")).to_have_value("")  # the code is not echoed back
    expect(status_on_list(beheerder, "Daan Smit")).to_have_text("uitgenodigd")  # nothing changed

    person.get_by_label("E-mailadres").fill("daan.smit@voorbeeldstad.test")
    person.get_by_label("Code").fill(code.lower())  # as typed over from a phone call
    person.get_by_role("button", name="Verder").click()
    choose_password_and_sign_in(person, "Daan Smit", "daan.smit@voorbeeldstad.test")

    again = browser()  # the code worked once
    again.goto("/uitnodiging")
    again.get_by_label("E-mailadres").fill("daan.smit@voorbeeldstad.test")
    again.get_by_label("Code").fill(code)
    again.get_by_role("button", name="Verder").click()
    expect(again.get_by_role("alert")).to_contain_text("De code werkt niet.")

    expect(status_on_list(beheerder, "Daan Smit")).to_have_text("actief")
    [(actie, actor, _, wijzigingen)], beheer_id = recorded(invite_app, "daan.smit@voorbeeldstad.test")
    assert (actie, actor) == ("uitgenodigd", beheer_id)
    assert wijzigingen["uitnodiging"] == [None, "eenmalige code"]
    assert code not in str(wijzigingen) and code.replace("-", "") not in str(wijzigingen)
    assert sink.messages == []
