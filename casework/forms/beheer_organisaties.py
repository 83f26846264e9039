"""The beheerder's forms for organisations (schools, SWVs, JGZ, the own gemeente) and for the
gemeente's own settings."""
from __future__ import annotations

import re
from typing import ClassVar

from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from casework.models.organisation import VAKANTIEREGIOS

from . import BaseForm, options
from .beheer import REGIO_LABELS
from .beheer_gebruikers import KIND_LABELS, _email_ok

# What a code looks like per kind: the CBS gemeentecode, the BRIN (with an optional two-digit
# vestigingsnummer), and a short code of the organisation's own choice for SWV and JGZ.
CODE_PATTERNS = {
    "gemeente": (re.compile(r"GM\d{4}"), "Een gemeentecode is GM met 4 cijfers, zoals GM0363."),
    "school": (re.compile(r"\d{2}[A-Z]{2}(\d{2})?"),
               "Een BRIN-nummer is 2 cijfers en 2 letters, zoals 12AB, eventueel met 2 cijfers voor de "
               "vestiging (12AB00)."),
    "swv": (re.compile(r"[A-Z0-9][A-Z0-9-]{1,15}"),
            "Gebruik 2 tot 16 letters, cijfers of streepjes, zoals PO2801 of SWV-NOORD."),
    "jgz": (re.compile(r"[A-Z0-9][A-Z0-9-]{1,15}"),
            "Gebruik 2 tot 16 letters, cijfers of streepjes, zoals GGD-NOORD."),
}


class CheckboxesField(SelectMultipleField):
    """A group of checkboxes (one per choice), shown in a fieldset like radio buttons."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def normal_code(value: str | None) -> str:
    return re.sub(r"\s+", "", (value or "")).upper()


def _text(label: str, limit: int, required: str | None = None, **render_kw):
    validators = [InputRequired(required)] if required else [Optional()]
    return StringField(label, render_kw={"maxlength": limit, **render_kw},
                       validators=[*validators, Length(max=limit, message=f"Dit is te lang: maximaal {limit} tekens.")])


def _email():
    return EmailField("E-mailadres", render_kw={"maxlength": 200},
                      validators=[Optional(), Length(max=200, message="Dit is te lang: maximaal 200 tekens."),
                                  _email_ok])


class OrganisatieForm(BaseForm):
    naam = _text("Naam", 200, "Vul de naam in.", autocomplete="off")
    code = StringField("Code", render_kw={"maxlength": 16, "autocomplete": "off", "spellcheck": "false"},
                       validators=[InputRequired("Vul de code in.")])
    adres = _text("Adres (straat en huisnummer)", 200)
    postcode_plaats = _text("Postcode en plaats", 200)
    telefoon = _text("Telefoonnummer", 50)
    email = _email()
    vakantieregio = SelectField("Vakantieregio", validate_choice=False,
                                choices=options([("", "Nog niet bekend")] + list(REGIO_LABELS.items())))
    gemeenten = CheckboxesField("Gemeenten die deze organisatie bedient", validate_choice=False)
    buren = CheckboxesField("Naburige samenwerkingsverbanden", validate_choice=False)

    hints: ClassVar[dict[str, str]] = {
        "code": "",
        "vakantieregio": "De schoolvakanties van deze regio tellen mee bij de lesweken van verzuim.",
        "gemeenten": "Uw eigen gemeente blijft aangevinkt: anders beheert u deze organisatie niet meer.",
        "buren": "Een deskundige mag ook advies vragen aan een naburig samenwerkingsverband.",
        "adres": "Het adres, telefoonnummer en e-mailadres staan in brieven.",
    }

    def setup(self, kind: str, gemeenten, swvs) -> OrganisatieForm:
        self.kind = kind
        self.hints = {**self.hints, "code": CODE_PATTERNS[kind][1]}
        self._gemeenten = {str(g.id): g for g in gemeenten}
        self._swvs = {str(s.id): s for s in swvs}
        self.gemeenten.choices = options([(k, g.naam) for k, g in self._gemeenten.items()])
        self.buren.choices = options([(k, s.naam) for k, s in self._swvs.items()])
        self.code.label.text = {"gemeente": "Gemeentecode (CBS)", "school": "BRIN-nummer"}.get(kind, "Code")
        return self

    def check(self, own_gemeente_id: int) -> bool:
        ok = self.validate()
        code = normal_code(self.code.data)
        pattern, message = CODE_PATTERNS[self.kind]
        if code and not pattern.fullmatch(code):
            self.add_error("code", message)
            ok = False
        if self.kind == "school" and (self.vakantieregio.data or "") not in ("", *VAKANTIEREGIOS):
            self.add_error("vakantieregio", "Kies een regio uit de lijst.")
            ok = False
        if self.kind in ("swv", "jgz"):
            chosen = self.gemeenten.data or []
            if any(k not in self._gemeenten for k in chosen):
                self.add_error("gemeenten", "Kies gemeenten uit de lijst.")
                ok = False
            elif str(own_gemeente_id) not in chosen:
                self.add_error("gemeenten", f"Vink uw eigen gemeente aan. Een {KIND_LABELS[self.kind].lower()} "
                                            "die uw gemeente niet bedient, kunt u niet beheren.")
                ok = False
        if self.kind == "swv" and any(k not in self._swvs for k in self.buren.data or []):
            self.add_error("buren", "Kies samenwerkingsverbanden uit de lijst.")
            ok = False
        return ok

    @property
    def gekozen_gemeenten(self):
        return [self._gemeenten[k] for k in self.gemeenten.data or [] if k in self._gemeenten]

    @property
    def gekozen_buren(self):
        return [self._swvs[k] for k in self.buren.data or [] if k in self._swvs]


class AantalField(IntegerField):
    """A whole number; a Dutch message for anything else."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = int(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError("Vul een heel getal in, zoals 28.") from None


def _days(label: str, low: int, high: int):
    return AantalField(label, render_kw={"inputmode": "numeric", "min": low, "max": high},
                        validators=[Optional(), NumberRange(low, high, f"Vul een aantal van {low} tot en met {high} in.")])


class InstellingenForm(BaseForm):
    advies_termijn_dagen = _days("Termijn voor het advies van het samenwerkingsverband (dagen)", 7, 90)
    max_herbeoordeling_maanden = AantalField(
        "Langste tijd tot de herbeoordeling (maanden)", render_kw={"inputmode": "numeric", "min": 1, "max": 60},
        validators=[Optional(), NumberRange(1, 60, "Vul een aantal van 1 tot en met 60 in.")])
    herbeoordeling_lead_dagen = _days("Herbeoordeling starten, dagen voor de datum", 7, 180)
    verlenging_herinnering_dagen = _days("Herinnering om te verlengen, dagen voor de einddatum", 7, 180)
    ondertekenaar_naam = _text("Naam van wie ondertekent", 200)
    ondertekenaar_functie = _text("Functie van wie ondertekent", 200)
    adres = _text("Adres (straat en huisnummer)", 200)
    postcode_plaats = _text("Postcode en plaats", 200)
    telefoon = _text("Telefoonnummer", 50)
    email = _email()
    logo = FileField("Nieuw logo (PNG of JPEG, maximaal 200 KB)", render_kw={"accept": "image/png,image/jpeg"})
    logo_weg = BooleanField("Logo weghalen")

    def validate_ondertekenaar_functie(self, field):
        if (field.data or "").strip() and not (self.ondertekenaar_naam.data or "").strip():
            raise ValidationError("Vul ook de naam in van wie ondertekent.")

