"""One form per vrijstelling event. Field names are the payload names of workflows/vrijstelling.py,
so an error the service reports for a payload field lands next to the matching input."""
from __future__ import annotations

from typing import ClassVar

from casework import policy
from wtforms import BooleanField, HiddenField, RadioField, SelectField, TextAreaField

from . import BaseForm, DatumField, JaNeeField, apply_limits, options

BEEINDIG_REDEN_LABELS = {
    "verlopen": "De vrijstelling is verlopen",
    "ingeschreven_op_school": ("Het kind staat op een school en gaat volledig naar school (bij een "
                               "vrijstelling: alleen als de deskundige haar niet meer nodig vindt)"),
    "verhuisd": "Het kind is verhuisd naar een andere gemeente",
    "einde_leerplicht": "De leerplicht en de kwalificatieplicht zijn afgelopen",
    "anders": "Anders (schrijf de reden in de toelichting)",
}


class EventForm(BaseForm):
    """Base: the version the user saw, and the payload the service gets."""

    expected_version = HiddenField()
    #: destructive steps ask "Ik weet het zeker" before anything happens
    confirm = False
    submit_label = ""
    #: heading and button text when the event's own label is not the clearest for this form
    title = ""
    #: a sentence above the fields
    intro = ""
    #: hints under inputs, by field name (on top of the shared HINTS)
    hints: ClassVar[dict[str, str]] = {}

    def setup(self, user, case) -> None:  # choices that depend on the user and the case
        return None

    def payload(self) -> dict:
        """Form data as the service payload; empty inputs are left out so the service says they are missing."""
        data = {}
        for name, field in self._fields.items():
            if name in ("expected_version", "csrf_token", "bevestiging"):
                continue
            value = field.boolean if isinstance(field, JaNeeField) else field.data
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            if value is None or value == "":
                continue
            data[name] = value
        return data

    def version(self) -> int | None:
        value = (self.expected_version.data or "").strip()
        return int(value) if value.isdigit() else None


class _Bevestiging:
    bevestiging = BooleanField("Ik weet het zeker")
    confirm = True


class NeemInBehandelingForm(EventForm):
    deskundige_id = SelectField("Deskundige (jeugdarts)", coerce=int, validate_choice=False)
    motivering_te_laat = TextAreaField(
        "De kennisgeving kwam te laat binnen. Waarom neemt u haar toch in behandeling?",
        render_kw={"rows": 3})

    def setup(self, user, case) -> None:
        from casework import policy
        from casework.extensions import db

        artsen = db.session.scalars(policy.deskundigen_query(user)).all()
        self.deskundige_id.choices = options(
            (a.id, f"{a.naam}, {a.organisation.naam}" if a.organisation else a.naam) for a in artsen)
        if not (case.data or {}).get("te_laat"):
            del self.motivering_te_laat


class VerklaarNietOntvankelijkForm(_Bevestiging, EventForm):
    reden = TextAreaField("Wat ontbreekt er in de kennisgeving?", render_kw={"rows": 3})


class VulAanForm(EventForm):
    aanvulling = TextAreaField("Wat wilt u aanvullen?", render_kw={"rows": 5})


class VraagAdviesForm(EventForm):
    swv_id = SelectField("Samenwerkingsverband", coerce=int, validate_choice=False)
    toestemming = JaNeeField(
        "Mogen de gegevens van het kind met het samenwerkingsverband worden gedeeld (toestemming)?")
    toestemming_door = RadioField(
        "Wie beslist over het delen van gegevens?", choices=options([("ouder", "De ouder of verzorger"),
                                                    ("jongere", "De jongere zelf (vanaf 16 jaar)")]),
        validate_choice=False)
    samenvatting = TextAreaField("Samenvatting voor het samenwerkingsverband", render_kw={"rows": 5})

    def setup(self, user, case) -> None:
        from sqlalchemy import select

        from casework import policy
        from casework.extensions import db
        from casework.models import Organisation

        ids = policy.swv_ids_for_gemeente(case.gemeente_id)
        names = dict(db.session.execute(select(Organisation.id, Organisation.naam)
                                        .where(Organisation.id.in_(ids))).all()) if ids else {}
        own = set(ids[:1])
        self.swv_id.choices = options((i, names.get(i, str(i)) + ("" if i in own else " (naburig)"))
                                      for i in ids)


class BrengAdviesUitForm(EventForm):
    advies = TextAreaField("Advies over het onderwijskundig perspectief", render_kw={"rows": 6})
    soort = RadioField("Soort advies", choices=options([
        ("persoonlijk", "Persoonlijk advies over dit kind (alleen met toestemming)"),
        ("algemeen", "Algemeen advies over het aanbod in de regio")]), validate_choice=False)
    mogelijkheden = TextAreaField("Mogelijkheden in de regio (één mogelijkheid per regel)",
                                  render_kw={"rows": 4})

    def setup(self, user, case) -> None:
        if not case.toestemming:
            self.soort.choices = options([("algemeen", "Algemeen advies over het aanbod in de regio "
                                                       "(er is geen toestemming voor persoonlijk advies)")])
            if not self.soort.data:
                self.soort.data = "algemeen"

    def payload(self) -> dict:
        data = super().payload()
        data["mogelijkheden"] = [line.strip() for line in (self.mogelijkheden.data or "").splitlines()
                                 if line.strip()]
        return data


class GeefVerklaringForm(EventForm):
    geschikt = JaNeeField("Is het kind geschikt om tot een school te worden toegelaten?")
    weging_advies = TextAreaField("Hoe heeft u het advies van het samenwerkingsverband gewogen?",
                                  render_kw={"rows": 4})
    verklaringsdatum = DatumField("Datum van de verklaring")
    niet_behandelend_arts = BooleanField("Ik ben niet de behandelend arts van dit kind")
    ingangsdatum = DatumField("Vrijstelling gaat in op")
    einddatum = DatumField("Vrijstelling eindigt op (leeg: tot het einde van de leerplicht)")
    herbeoordelingsdatum = DatumField("Datum van de herbeoordeling")
    medische_notitie = TextAreaField("Medische notitie (alleen u kunt deze lezen)",
                                     render_kw={"rows": 4})


class StartHerbeoordelingForm(EventForm):
    pass


class BeeindigForm(_Bevestiging, EventForm):
    reden = SelectField("Reden", choices=options([("", "Kies een reden"), *BEEINDIG_REDEN_LABELS.items()]),
                        validate_choice=False)
    toelichting = TextAreaField("Toelichting", render_kw={"rows": 3})
    deskundige_akkoord = BooleanField("De deskundige heeft beoordeeld dat de vrijstelling niet meer nodig is")
    hints: ClassVar[dict[str, str]] = {
        "deskundige_akkoord": "Alleen nodig bij de reden 'ingeschreven op een school'. Een kind met een "
                              "vrijstelling mag ook in deeltijd op een school staan. De inschrijving alleen "
                              "beëindigt de vrijstelling niet.",
    }


class TrekInForm(_Bevestiging, EventForm):
    reden = TextAreaField("Waarom trekt u de kennisgeving in? (niet verplicht)", render_kw={"rows": 3})


class SluitNietAangevuldForm(_Bevestiging, EventForm):
    intro = ("De termijn om de kennisgeving aan te vullen is voorbij. De zaak wordt gesloten en de "
             "ouder krijgt daarover een brief.")


class VraagAnderSwvForm(VraagAdviesForm):
    reden = TextAreaField("Waarom vraagt u een ander samenwerkingsverband?", render_kw={"rows": 3})
    intro = ("Het eerste samenwerkingsverband krijgt dan geen toegang meer tot deze adviesaanvraag. "
             "De reden komt in het dossier.")

    def setup(self, user, case) -> None:
        super().setup(user, case)
        # The SWV asked now is no choice (SelectChoice, or a plain pair without it).
        self.swv_id.choices = [c for c in self.swv_id.choices
                               if getattr(c, "value", c[0] if isinstance(c, tuple) else c) != case.swv_id]


class ZieAfForm(_Bevestiging, EventForm):
    intro = ("Als u afziet van de vrijstelling, stopt zij vandaag. Uw kind is dan weer leerplichtig "
             "en moet naar school.")
    toelichting = TextAreaField("Wilt u iets toelichten? (niet verplicht)", render_kw={"rows": 3})


class HerinnerVerlengingForm(EventForm):
    intro = ("De ouders krijgen een brief: de vrijstelling loopt af, en zo doen zij op tijd een nieuwe "
             "kennisgeving. De planner stuurt deze brief ook zelf, 8 weken voor de einddatum.")


EVENT_FORMS: dict[str, type[EventForm]] = {
    "neem_in_behandeling": NeemInBehandelingForm,
    "verklaar_niet_ontvankelijk": VerklaarNietOntvankelijkForm,
    "vul_aan": VulAanForm,
    "vraag_advies": VraagAdviesForm,
    "breng_advies_uit": BrengAdviesUitForm,
    "geef_verklaring": GeefVerklaringForm,
    "start_herbeoordeling": StartHerbeoordelingForm,
    "beeindig": BeeindigForm,
    "trek_in": TrekInForm,
    "sluit_niet_aangevuld": SluitNietAangevuldForm,
    "vraag_ander_swv": VraagAnderSwvForm,
    "zie_af": ZieAfForm,
    "herinner_verlenging": HerinnerVerlengingForm,
}

# Hints shown under an input (id "<field id>-hint").
HINTS = {
    "samenvatting": "Zonder toestemming: schrijf geen naam, BSN, geboortedatum, adres of school op.",
    "mogelijkheden": "Bijvoorbeeld: OPDC De Brug, onderwijszorgarrangement, onderwijs op afstand.",
    "herbeoordelingsdatum": "Alleen invullen als het kind niet geschikt is.",
    "ingangsdatum": ("Alleen invullen als het kind niet geschikt is. Niet voor de ontvangst van de "
                     "kennisgeving en uiterlijk 3 maanden na de verklaring."),
    "einddatum": "Alleen invullen als het kind niet geschikt is.",
    "verklaringsdatum": "Niet ouder dan 3 maanden en niet van voor de adviesaanvraag.",
    "toestemming_door": ("Altijd invullen, ook als er geen toestemming is. Tot 16 jaar beslissen de ouders, "
                         "vanaf 16 jaar de jongere zelf (leeftijd op de dag van de adviesaanvraag)."),
}


def event_form(event: str, user, case, formdata=None) -> EventForm | None:
    """The form of an event for this user and case; formdata None gives an empty form."""
    if case.type == "verzuim":
        from .verzuim import VERZUIM_EVENT_FORMS

        cls = VERZUIM_EVENT_FORMS.get(event)
    else:
        cls = EVENT_FORMS.get(event)
    if cls is None:
        return None
    kwargs = {"prefix": event}
    if formdata is None:
        kwargs["formdata"] = None
        kwargs["expected_version"] = str(policy.version_for(user, case))
    else:
        kwargs["formdata"] = formdata
    form = cls(**kwargs)
    from casework.workflows import get_workflow

    spec = get_workflow(case.type).events.get(event)
    if spec is not None:
        apply_limits(form, spec.payload)
    form.setup(user, case)
    if formdata is None:
        form.expected_version.data = str(policy.version_for(user, case))
    return form
