"""Verzuim forms: the school's signaal or melding, and one form per verzuim event.

Field names are the payload names of workflows/verzuim.py, so an error the service reports for a
payload field lands next to the matching input. The route choice takes two steps: the LPA records
the cause (RouteVoorstelForm), sees the product's proposal, then chooses (KiesRouteForm).
"""
from __future__ import annotations

from datetime import date
from typing import ClassVar

from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, ValidationError
from wtforms.widgets import NumberInput

from casework.views import texts
from casework.workflows import verzuim as verzuim_workflow
from casework.workflows.verzuim import ROUTES, STATES

from . import BaseForm, DatumField, JaNeeField, child_choices, options
from .events import EventForm, _Bevestiging


def int_or_none(value):
    """Coerce for selects with an empty "Kies …" option: "" is no choice, not an error."""
    if value in (None, ""):
        return None
    return int(value)


class GetalField(IntegerField):
    """<input type="number"> for a whole number of 0 or more, with Dutch messages."""

    widget = NumberInput(min=0, step=1)

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not text:
            return
        try:
            number = int(text)
        except ValueError:
            raise ValueError("Vul een heel getal in, bijvoorbeeld 12.") from None
        if number < 0:
            raise ValueError("Vul 0 of een hoger getal in.")
        self.data = number


def _soort_choices():
    return options((k, texts.SOORT_TITELS[k]) for k in ("signaal", "melding"))


def _verzuimsoort_choices():
    return options(texts.VERZUIMSOORT_LABELS.items())


# ------------------------------------------------------------------ new signaal or melding


class VerzuimForm(BaseForm):
    """A school's signaal zorgelijk verzuim or verzuimmelding (the LPA can register one too)."""

    limits_from = verzuim_workflow.DienIn

    child_id = SelectField("Leerling", coerce=int_or_none, validate_choice=False,
                           validators=[InputRequired("Kies een leerling.")])
    soort = RadioField("Wat wilt u doen?", choices=_soort_choices(),
                       invalid_choice_message="Kies: een signaal of een verzuimmelding.")
    verzuimsoort = RadioField("Soort verzuim (alleen bij een melding)", choices=_verzuimsoort_choices(),
                              validate_choice=False)
    uren = GetalField("Aantal uren ongeoorloofd verzuim")
    keer_te_laat = GetalField("Aantal keer te laat")
    periode_start = DatumField("Eerste dag van de periode")
    periode_eind = DatumField("Laatste dag van de periode")
    omschrijving = TextAreaField("Wat is er aan de hand?", render_kw={"rows": 4})
    verzuimbeleid_situatie = TextAreaField("Welke situatie uit het verzuimbeleid van de school?",
                                           render_kw={"rows": 3})

    hints: ClassVar[dict[str, str]] = {
        "verzuimsoort": "Kies de soort zoals DUO die kent. Bij een signaal laat u dit leeg.",
        "uren": "Alleen verzuim zonder geldige reden. Ziekte en verlof tellen niet mee.",
        "keer_te_laat": "Niet verplicht. Vul dit in als de leerling vaak te laat komt.",
        "periode_start": "De periode waarin het verzuim viel. Bij een melding '16 uur in 4 weken' "
                         "hoogstens 4 lesweken; weken van de schoolvakantie tellen niet mee.",
        "omschrijving": "Kort en feitelijk: wat ziet de school, en wat heeft de school al gedaan?",
        "verzuimbeleid_situatie": "Verplicht bij een signaal. Bijvoorbeeld: 'Structureel te laat in "
                                  "het eerste lesuur'.",
    }

    def setup(self, children) -> VerzuimForm:
        self.child_id.choices = options([("", "Kies een leerling"), *child_choices(children)])
        return self

    def payload(self) -> dict:
        soort = self.soort.data
        data = {
            "child_id": self.child_id.data, "soort": soort, "uren": self.uren.data,
            "keer_te_laat": self.keer_te_laat.data,
            "periode_start": self.periode_start.data.isoformat() if self.periode_start.data else None,
            "periode_eind": self.periode_eind.data.isoformat() if self.periode_eind.data else None,
            "omschrijving": self.omschrijving.data or "",
        }
        # A choice made for the other soort and then left behind (hidden, still sent) does not count.
        if soort == "melding":
            data["verzuimsoort"] = self.verzuimsoort.data or None
        else:
            data["verzuimbeleid_situatie"] = self.verzuimbeleid_situatie.data or None
        return {k: v for k, v in data.items() if v is not None}


# ------------------------------------------------------------------ event forms


class StartOnderzoekForm(EventForm):
    gesprek_gepland_op = DatumField("Datum van het gesprek")
    gesprek_tijd = StringField("Tijd", render_kw={"type": "time"})
    gesprek_plaats = StringField("Plaats", render_kw={"autocomplete": "off"})

    hints: ClassVar[dict[str, str]] = {
        "gesprek_gepland_op": "De ouders, en de leerling vanaf 12 jaar, krijgen een uitnodiging "
                              "met deze datum, tijd en plaats.",
        "gesprek_tijd": "Bijvoorbeeld 10:00.",
        "gesprek_plaats": "Bijvoorbeeld: Stadskantoor, Raadhuisplein 1.",
    }


class NeemTerKennisgevingAanForm(_Bevestiging, EventForm):
    reden = TextAreaField("Waarom is er geen verdere actie nodig?", render_kw={"rows": 3})
    hints: ClassVar[dict[str, str]] = {"reden": "De school krijgt een brief met deze reden in algemene woorden."}


class DraagOverForm(_Bevestiging, EventForm):
    gemeente_id = SelectField("Welke gemeente neemt de zaak over?", coerce=int_or_none,
                              validate_choice=False)
    hints: ClassVar[dict[str, str]] = {"gemeente_id": "Bijvoorbeeld omdat de leerling in die gemeente woont. "
                            "De school en de nieuwe gemeente krijgen een brief."}

    def setup(self, user, case) -> None:
        from sqlalchemy import select

        from casework.extensions import db
        from casework.models import Organisation

        others = db.session.execute(
            select(Organisation.id, Organisation.naam)
            .where(Organisation.kind == "gemeente", Organisation.id != case.gemeente_id)
            .order_by(Organisation.naam)).all()
        self.gemeente_id.choices = options([("", "Kies een gemeente"), *others])


class VerzuimTrekInForm(_Bevestiging, EventForm):
    title = "Intrekken (per vergissing verstuurd)"
    reden = TextAreaField("Waarom trekt u het in?", render_kw={"rows": 3})
    hints: ClassVar[dict[str, str]] = {"reden": "Alleen als het signaal of de melding per vergissing is verstuurd, "
                      "bijvoorbeeld voor de verkeerde leerling of dubbel."}


class EscaleerNaarMeldingForm(EventForm):
    verzuimsoort = RadioField("Soort verzuim", choices=_verzuimsoort_choices(), validate_choice=False)
    uren = GetalField("Aantal uren ongeoorloofd verzuim")
    keer_te_laat = GetalField("Aantal keer te laat")
    periode_start = DatumField("Eerste dag van de periode")
    periode_eind = DatumField("Laatste dag van de periode")

    intro = ("Is het verzuim nu 16 uur of meer in 4 schoolweken, of om een andere reden meldingsplichtig? "
             "Zet het signaal dan om naar een verzuimmelding. De zaak houdt haar geschiedenis.")
    hints: ClassVar[dict[str, str]] = {"uren": "Alle uren ongeoorloofd verzuim in de periode, ook die van het signaal."}


class RouteVoorstelForm(BaseForm):
    """Step 1 of the route choice: the cause as the LPA found it. Not an event: it changes nothing."""

    limits_from = verzuim_workflow.KiesRoute

    expected_version = HiddenField()
    oorzaak = TextAreaField("Wat is de oorzaak van het verzuim?", render_kw={"rows": 4},
                            validators=[InputRequired("Beschrijf de oorzaak van het verzuim.")])
    oorzaak_categorie = SelectField("Bij welke soort oorzaak past dit het best?",
                                    choices=options(texts.OORZAAK_LABELS.items()), default="onbekend",
                                    invalid_choice_message="Kies een soort oorzaak uit de lijst.")
    gesprek_gevoerd_op = DatumField("Wanneer was het gesprek met de ouders en de leerling?",
                                    validators=[InputRequired("Vul de datum van het gesprek in.")])
    eerdere_hulp_niet_op_gang = JaNeeField("Kwam eerdere vrijwillige hulp niet op gang?", default="nee")
    ontwikkeling_in_gevaar = JaNeeField("Is de ontwikkeling van het kind in gevaar?", default="nee")
    eerdere_routes_mislukt = JaNeeField("Werkten eerdere routes niet, in deze of een eerdere zaak?",
                                        default="nee")
    ouders_werken_niet_mee = JaNeeField("Weigeren de ouders mee te werken?", default="nee")

    QUESTIONS = ("eerdere_hulp_niet_op_gang", "ontwikkeling_in_gevaar", "eerdere_routes_mislukt",
                 "ouders_werken_niet_mee")
    hints: ClassVar[dict[str, str]] = {
        "oorzaak": "Wat bleek uit het gesprek met de ouders en de leerling, en uit het contact met de "
                   "school? Dit ziet alleen de leerplichtambtenaar.",
        "oorzaak_categorie": "Zorgen, de thuissituatie, pesten of geen passende plek: dan stelt Casework "
                             "vrijwillige hulp voor.",
    }

    def validate_gesprek_gevoerd_op(self, field) -> None:
        if field.data and field.data > date.today():
            raise ValidationError("Het gesprek kan niet in de toekomst gevoerd zijn.")

    def voorstel_payload(self) -> dict:
        """What services.cases.propose_route reads."""
        return {"oorzaak_categorie": self.oorzaak_categorie.data or "onbekend",
                **{q: bool(self[q].boolean) for q in self.QUESTIONS}}

    def cause(self) -> dict:
        """The recorded cause as KiesRouteForm carries it to step 2."""
        return {"oorzaak": self.oorzaak.data or "",
                "oorzaak_categorie": self.oorzaak_categorie.data or "onbekend",
                "gesprek_gevoerd_op": self.gesprek_gevoerd_op.data.isoformat()
                if self.gesprek_gevoerd_op.data else "",
                **{q: self[q].data or "nee" for q in self.QUESTIONS}}


class KiesRouteForm(EventForm):
    """Step 2: the route, with the cause of step 1 carried along in hidden inputs."""

    limits_from = verzuim_workflow.KiesRoute

    route = RadioField("Welke route kiest u?", choices=options((r, STATES[r]) for r in ROUTES),
                       invalid_choice_message="Kies een route.")
    motivering_afwijking = TextAreaField("Waarom kiest u een andere route?", render_kw={"rows": 3})
    afspraken = TextAreaField("Afspraken met de leerling en de ouders", render_kw={"rows": 3})
    toestemming_halt = BooleanField("De jongere (en onder 16 jaar ook de ouders) geeft toestemming "
                                    "voor Halt")
    tegen = RadioField("Tegen wie is het proces-verbaal?", choices=options(texts.TEGEN_LABELS.items()),
                       validate_choice=False)
    hulp_loopt_door = BooleanField("De vrijwillige hulp gaat door naast Halt")
    opvolgen_op = DatumField("Wanneer kijkt u of de route werkt? (niet verplicht)")
    # the cause, from step 1
    oorzaak = HiddenField()
    oorzaak_categorie = HiddenField()
    gesprek_gevoerd_op = HiddenField()
    eerdere_hulp_niet_op_gang = HiddenField()
    ontwikkeling_in_gevaar = HiddenField()
    eerdere_routes_mislukt = HiddenField()
    ouders_werken_niet_mee = HiddenField()

    CAUSE = ("oorzaak", "oorzaak_categorie", "gesprek_gevoerd_op", *RouteVoorstelForm.QUESTIONS)
    hints: ClassVar[dict[str, str]] = {
        "motivering_afwijking": "Alleen nodig als u een andere route kiest dan het voorstel (pas toe of "
                                "leg uit).",
        "afspraken": "Bij route 1 en 2: wat spreken de leerling, de ouders en de school af? "
                     "Dit komt in de brief aan de ouders.",
        "toestemming_halt": "Alleen bij Halt.",
        "tegen": "Alleen bij een proces-verbaal. Tegen de jongere kan vanaf 12 jaar.",
        "opvolgen_op": "Leeg: over 6 weken.",
    }

    def setup(self, user, case) -> None:
        if (case.data or {}).get("soort") == "signaal":
            # domain.md: a signaal may only take vrijwillige hulp; the guard says so too.
            self.route.choices = options([("vrijwillige_hulp", STATES["vrijwillige_hulp"])])
            self.route.invalid_choice_message = (
                "Kies een route. Bij een signaal is alleen vrijwillige hulp mogelijk; een zwaardere "
                "route kan pas na een verzuimmelding.")

    def cause(self) -> dict:
        return {name: self[name].data or "" for name in self.CAUSE}

    def payload(self) -> dict:
        route = self.route.data
        data = {
            "route": route, "oorzaak": self.oorzaak.data or "",
            "oorzaak_categorie": self.oorzaak_categorie.data or "onbekend",
            "gesprek_gevoerd_op": self.gesprek_gevoerd_op.data or None,
            "motivering_afwijking": self.motivering_afwijking.data or None,
            "afspraken": self.afspraken.data or "",
            "toestemming_halt": bool(self.toestemming_halt.data) if route == "halt" else False,
            "hulp_loopt_door": bool(self.hulp_loopt_door.data) if route == "halt" else False,
            "tegen": (self.tegen.data or None) if route == "proces_verbaal" else None,
            "opvolgen_op": self.opvolgen_op.data.isoformat() if self.opvolgen_op.data else None,
        }
        for question in RouteVoorstelForm.QUESTIONS:
            data[question] = (self[question].data or "").strip().lower() in ("ja", "true")
        return {k: v for k, v in data.items() if v is not None}


class VerwijsDoorForm(EventForm):
    route = SelectField("Naar welke zwaardere route?", validate_choice=False)
    motivering = TextAreaField("Waarom verwijst u door?", render_kw={"rows": 3})
    afspraken = TextAreaField("Afspraken met de leerling en de ouders (niet verplicht)", render_kw={"rows": 3})
    toestemming_halt = BooleanField("De jongere (en onder 16 jaar ook de ouders) geeft toestemming "
                                    "voor Halt")
    tegen = RadioField("Tegen wie is het proces-verbaal?", choices=options(texts.TEGEN_LABELS.items()),
                       validate_choice=False)
    hulp_loopt_door = BooleanField("De vrijwillige hulp gaat door naast Halt")
    opvolgen_op = DatumField("Wanneer kijkt u of de route werkt? (niet verplicht)")

    hints: ClassVar[dict[str, str]] = {
        "motivering": "Bijvoorbeeld: de afspraken werden niet nagekomen, of Halt is niet goed afgerond.",
        "toestemming_halt": "Alleen bij Halt.",
        "tegen": "Alleen bij een proces-verbaal. Tegen de jongere kan vanaf 12 jaar.",
        "opvolgen_op": "Leeg: over 6 weken.",
    }

    def setup(self, user, case) -> None:
        heavier = ROUTES[ROUTES.index(case.state) + 1:] if case.state in ROUTES else ()
        self.route.choices = options((r, STATES[r]) for r in heavier)
        if (case.data or {}).get("soort") == "signaal":
            self.intro = ("Dit is een signaal: een zwaardere route kan pas als u het signaal eerst omzet "
                          "naar een verzuimmelding.")

    def payload(self) -> dict:
        data = super().payload()
        if data.get("route") != "halt":
            data.pop("toestemming_halt", None)
            data.pop("hulp_loopt_door", None)
        if data.get("route") != "proces_verbaal":
            data.pop("tegen", None)
        return data


class HervatRouteForm(VerwijsDoorForm):
    route = SelectField("Naar welke route?", validate_choice=False)
    motivering = TextAreaField("Waarom is een route weer nodig?", render_kw={"rows": 3})
    intro = "Het verzuim is teruggekomen tijdens de monitoring. Kies de route die nu past."
    hints: ClassVar[dict[str, str]] = {
        **VerwijsDoorForm.hints,
        "motivering": "Bijvoorbeeld: sinds de monitoring mist de leerling weer lessen.",
        "hulp_loopt_door": "Alleen bij Halt.",
    }

    def setup(self, user, case) -> None:
        routes = ROUTES if (case.data or {}).get("soort") != "signaal" else ("vrijwillige_hulp",)
        self.route.choices = options((r, STATES[r]) for r in routes)

    def payload(self) -> dict:
        data = super().payload()
        if data.get("route") != "halt":
            data.pop("hulp_loopt_door", None)
        return data


class StartMonitoringForm(EventForm):
    uitkomst = SelectField("Wat is de uitkomst van de route?", validate_choice=False)
    monitoren_tot = DatumField("Tot wanneer volgt u het schoolbezoek?")

    _PER_ROUTE: ClassVar[dict[str, tuple[str, ...]]] = {
        "vrijwillige_hulp": ("hulp_gestart", "afspraken_lopen"),
        "halt": ("halt_positief",),
        "verplicht_kader": ("raad_onderzoek",),
        "proces_verbaal": ("pv_ingestuurd",),
    }
    hints: ClassVar[dict[str, str]] = {"monitoren_tot": "De ouders en de school krijgen een brief met deze datum."}

    def setup(self, user, case) -> None:
        keys = (*self._PER_ROUTE.get(case.state, ()), "anders")
        self.uitkomst.choices = options((k, texts.UITKOMST_LABELS[k]) for k in keys)


class SluitAfForm(_Bevestiging, EventForm):
    resultaat = SelectField("Resultaat", choices=options([("", "Kies een resultaat"),
                                                          *texts.RESULTAAT_LABELS.items()]),
                            validate_choice=False)
    toelichting = TextAreaField("Toelichting", render_kw={"rows": 3})
    hints: ClassVar[dict[str, str]] = {"toelichting": "Verplicht bij 'Anders'. De ouders lezen het resultaat in hun brief; "
                            "de school hoort alleen dat de zaak is afgesloten."}


VERZUIM_EVENT_FORMS: dict[str, type[EventForm]] = {
    "start_onderzoek": StartOnderzoekForm,
    "neem_ter_kennisgeving_aan": NeemTerKennisgevingAanForm,
    "draag_over": DraagOverForm,
    "trek_in": VerzuimTrekInForm,
    "escaleer_naar_melding": EscaleerNaarMeldingForm,
    "kies_route": KiesRouteForm,
    "verwijs_door": VerwijsDoorForm,
    "hervat_route": HervatRouteForm,
    "start_monitoring": StartMonitoringForm,
    "sluit_af": SluitAfForm,
}
