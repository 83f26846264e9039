"""flask admin create-organisation / create-user: bootstrapping an empty production database."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from casework.extensions import db
from casework.models import AccessLog, Organisation, User
from factories import own_app

pytestmark = pytest.mark.no_transaction  # the app of its own commits for real

PASSWORD = "lange zin voor de eerste beheerder"


@pytest.fixture(scope="module")
def admin_app(tmp_path_factory):
    with own_app(tmp_path_factory.mktemp("admin")) as app:
        yield app


def _run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=["admin", *args], input=input)


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_gemeente_its_school_and_its_first_beheerder(admin_app):
    made = _run(admin_app, "create-organisation", "--soort", "gemeente", "--naam", "Gemeente Zeestad",
                "--code", "gm0999", "--adres", "Raadhuisplein 1", "--postcode-plaats", "9999 ZZ Zeestad")
    assert made.exit_code == 0, made.output
    assert "Gemeente Zeestad (gemeente, code GM0999)" in made.output
    school = _run(admin_app, "create-organisation", "--soort", "school", "--naam", "De Duinen",
                  "--code", "99ZZ", "--gemeente", "GM0999", "--regio", "noord")
    assert school.exit_code == 0, school.output
    user = _run(admin_app, "create-user", "--email", "Beheer@Zeestad.test", "--naam", "Fatima Ouali",
                "--rol", "beheerder", "--organisatie", "GM0999", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert user.exit_code == 0, user.output
    assert "tweestapsverificatie" in user.output and PASSWORD not in user.output
    with admin_app.app_context():
        gemeente = db.session.scalar(select(Organisation).where(Organisation.code == "GM0999"))
        duinen = db.session.scalar(select(Organisation).where(Organisation.code == "99ZZ"))
        assert (duinen.gemeente_id, duinen.vakantieregio) == (gemeente.id, "noord")
        beheerder = db.session.scalar(select(User).where(User.email == "beheer@zeestad.test"))
        assert (beheerder.role, beheerder.organisation_id) == ("beheerder", gemeente.id)
        assert PasswordHasher().verify(beheerder.password_hash, PASSWORD)
        events = set(db.session.scalars(select(AccessLog.what).where(AccessLog.via == "cli")))
        assert {"organisatie_aangemaakt:gemeente GM0999", "organisatie_aangemaakt:school 99ZZ",
                f"gebruiker_aangemaakt:{beheerder.id} beheerder"} <= events
    # The new beheerder signs in with that password (the second step is set up next).
    client = admin_app.test_client()
    answer = client.post("/inloggen", data={"email": "beheer@zeestad.test", "wachtwoord": PASSWORD})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert answer.location.startswith("/inloggen/")  # on to the second step
    wrong = client.post("/inloggen", data={"email": "beheer@zeestad.test", "wachtwoord": PASSWORD + "x"})
    assert wrong.status_code != 302


@pytest.mark.parametrize("args, message", [
    (("create-organisation", "--soort", "gemeente", "--naam", "Dubbel", "--code", "GM9001"),
     "er is al een organisatie met code GM9001"),
    (("create-organisation", "--soort", "gemeente", "--naam", "X", "--code", "GM0998", "--regio", "zuid"),
     "alleen een school heeft een vakantieregio"),
    (("create-organisation", "--soort", "school", "--naam", "X", "--code", "98XX", "--gemeente", "GM0000"),
     "er is geen organisatie met code GM0000"),
    (("create-user", "--email", "a@b.test", "--naam", "A", "--rol", "jeugdarts", "--organisatie", "GM9001",
      "--wachtwoord-stdin"), "is een gemeente, geen jgz"),
    (("create-user", "--email", "a@b.test", "--naam", "A", "--rol", "leerplichtambtenaar",
      "--wachtwoord-stdin"), "geef --organisatie"),
    (("create-user", "--email", "a@b.test", "--naam", "A", "--rol", "ouder", "--organisatie", "GM9001",
      "--wachtwoord-stdin"), "een ouder hoort niet bij een organisatie"),
    (("create-user", "--email", "leerplicht@voorbeeldstad.test", "--naam", "A", "--rol", "ouder",
      "--wachtwoord-stdin"), "er is al een gebruiker"),
    (("create-user", "--email", "kort@b.test", "--naam", "A", "--rol", "ouder", "--wachtwoord-stdin"),
     "te kort"),
])
def test_wrong_input_is_named_and_changes_nothing(admin_app, args, message):
    before = (_count(admin_app, Organisation), _count(admin_app, User), _count(admin_app, AccessLog))
    result = _run(admin_app, *args, input="kort\n")
    assert result.exit_code == 1
    assert message in result.output
    assert (_count(admin_app, Organisation), _count(admin_app, User), _count(admin_app, AccessLog)) == before
