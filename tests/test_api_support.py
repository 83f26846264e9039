"""Helpers for the API tests: demo users by short name, and a case walked through workflow 1
with real API calls. No tests of its own."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from conftest import api_token

from casework.workflows.base import add_months

EMAILS = {
    "lpa": "leerplicht@voorbeeldstad.test",
    "lpa_buurdorp": "leerplicht@buurdorp.test",
    "arts": "jeugdarts@ggd-voorbeeld.test",
    "swv": "adviseur@swv-voorbeeldregio.test",
    "swv_naburig": "adviseur@swv-naburig.test",
    "ouder1": "ouder1@voorbeeld.test",
    "ouder2": "ouder2@voorbeeld.test",
    "school": "school@devoorbeeld.test",
    "school_college": "school@voorbeeldcollege.test",
    "beheerder": "beheer@voorbeeldstad.test",
}

TODAY = date.today()
# A notice for next school year is on time for every demo child; one for this year is late.
ON_TIME = f"{TODAY.year + 1}-{TODAY.year + 2}"
LATE = f"{TODAY.year - 1}-{TODAY.year}"
SAMENVATTING = "Kind van basisschoolleeftijd met ernstige vermoeidheidsklachten sinds een jaar."


class Api:
    """A test client that signs in as demo users through POST /auth/token."""

    def __init__(self, client, demo) -> None:
        self.client = client
        self.demo = demo
        self._headers: dict[str, dict] = {}

    def headers(self, who: str) -> dict:
        if who not in self._headers:
            self._headers[who] = api_token(self.client, EMAILS[who])
        return self._headers[who]

    def get(self, who: str, path: str, **kwargs):
        return self.client.get(f"/api/v1{path}", headers=self.headers(who), **kwargs)

    def post(self, who: str, path: str, body=None, **kwargs):
        return self.client.post(f"/api/v1{path}", headers=self.headers(who), json=body, **kwargs)

    def fire(self, who: str, case_id: int, event: str, **payload):
        return self.post(who, f"/cases/{case_id}/events/{event}", payload)

    def ok(self, response, status: int = 200) -> dict:
        assert response.status_code == status, response.get_json()
        return response.get_json()

    # ------------------------------------------------------------ workflow 1 step by step

    def file(self, who: str = "ouder1", child=None, schooljaar: str = ON_TIME, **extra) -> dict:
        child = child or self.demo.sam
        body = {"type": "vrijstelling_5a", "child_id": child.id, "schooljaar": schooljaar,
                "toelichting": "Ernstige vermoeidheid, al een jaar niet naar school.", **extra}
        return self.ok(self.post(who, "/cases", body), 201)

    def accept(self, case: dict, **extra) -> dict:
        return self.ok(self.fire("lpa", case["id"], "neem_in_behandeling",
                                 deskundige_id=self.demo.arts.id, **extra))

    def ask_advice(self, case: dict, consent: bool = False) -> dict:
        return self.ok(self.fire("arts", case["id"], "vraag_advies", swv_id=self.demo.swv_regio.id,
                                 toestemming=consent, toestemming_door="ouder",
                                 samenvatting=SAMENVATTING))

    def give_advice(self, case: dict, soort: str = "algemeen") -> dict:
        return self.ok(self.fire("swv", case["id"], "breng_advies_uit", soort=soort,
                                 advies="In de regio is een OPDC en digitaal afstandsonderwijs.",
                                 mogelijkheden=["OPDC Voorbeeldstad", "Digitaal afstandsonderwijs"]))

    def verklaring(self, geschikt: bool = False, **overrides) -> dict:
        body = {"geschikt": geschikt, "weging_advies": "Het advies is meegewogen; nu nog niet haalbaar.",
                "verklaringsdatum": TODAY.isoformat(), "niet_behandelend_arts": True,
                "medische_notitie": "Vertrouwelijk: diagnose X."}
        if not geschikt:
            body |= {"ingangsdatum": TODAY.isoformat(),
                     "einddatum": add_months(TODAY, 24).isoformat(),
                     "herbeoordelingsdatum": add_months(TODAY, 6).isoformat()}
        return body | overrides

    def declare(self, case: dict, geschikt: bool = False, **overrides) -> dict:
        return self.ok(self.fire("arts", case["id"], "geef_verklaring", **self.verklaring(geschikt, **overrides)))

    def case_in(self, state: str, consent: bool = False, **file_kwargs) -> dict:
        """A fresh case for Sam (or file_kwargs' child) in the given state, reached through the API."""
        case = self.file(**file_kwargs)
        steps = ["kennisgeving_ontvangen", "in_behandeling", "advies_gevraagd", "advies_uitgebracht",
                 "vrijgesteld"]
        actions = [self.accept, lambda c: self.ask_advice(c, consent),
                   lambda c: self.give_advice(c, "persoonlijk" if consent else "algemeen"), self.declare]
        for target, action in zip(steps[1:], actions, strict=True):
            if case["state"] == state:
                break
            case = action(case)
            assert case["state"] == target
        assert case["state"] == state
        return case


@pytest.fixture(name="api")
def api_fixture(client, demo) -> Api:
    return Api(client, demo)


def days(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()
