"""The beheerder's school-holiday calendar: a holiday of a region or of one school, a school's region."""
from __future__ import annotations

import re
from datetime import date
from typing import ClassVar

from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length, ValidationError

from casework.formatting import format_datum
from casework.models.organisation import VAKANTIEREGIOS
from casework.models.schoolvakantie import VAKANTIENAMEN

from . import BaseForm, DatumField, options

REGIO_LABELS = {"noord": "Regio noord", "midden": "Regio midden", "zuid": "Regio zuid"}
_SCHOOLJAAR = re.compile(r"^(\d{4})-(\d{4})$")


def schooljaar_grenzen(schooljaar: str) -> tuple[date, date] | None:
    """The days a holiday of this school year may fall on: 1 August to 30 September of the next
    year (the zomervakantie that ends the school year runs into September)."""
    match = _SCHOOLJAAR.match(schooljaar or "")
    if not match or int(match[2]) != int(match[1]) + 1:
        return None
    return date(int(match[1]), 8, 1), date(int(match[2]), 9, 30)


class SchoolvakantieForm(BaseForm):
    schooljaar = StringField("Schooljaar", render_kw={"maxlength": 9},
                             validators=[InputRequired("Vul het schooljaar in, bijvoorbeeld 2026-2027.")])
    geldt_voor = SelectField("Voor wie geldt deze vakantie?", validate_choice=False)
    naam = StringField("Naam van de vakantie", render_kw={"maxlength": 60},
                       validators=[InputRequired("Vul de naam van de vakantie in."),
                                   Length(max=60, message="De naam is te lang: maximaal 60 tekens.")])
    begin = DatumField("Eerste vrije dag", validators=[InputRequired("Vul de eerste vrije dag in.")])
    eind = DatumField("Laatste vrije dag", validators=[InputRequired("Vul de laatste vrije dag in.")])

    hints: ClassVar[dict[str, str]] = {
        "schooljaar": "Bijvoorbeeld 2026-2027.",
        "geldt_voor": "Een regio, of één school van uw gemeente. Een school krijgt de vakanties van haar regio, "
                      "plus haar eigen afwijkingen.",
        "naam": "Voor een regio: herfst, kerst, voorjaar, mei of zomer. Voor een school: met dezelfde naam "
                "vervangt u de vakantie van de regio (bijvoorbeeld een herfstvakantie een week eerder). "
                "Met een andere naam, zoals studieweek, komt er een vakantie bij.",
        "begin": "Meestal een zaterdag. De eerste en de laatste dag tellen mee.",
    }

    def setup(self, scholen) -> SchoolvakantieForm:
        self.geldt_voor.choices = options(
            [(f"regio:{r}", REGIO_LABELS[r]) for r in VAKANTIEREGIOS]
            + [(f"school:{s.id}", s.naam) for s in scholen])
        self._school_ids = {s.id for s in scholen}
        return self

    def doel(self) -> tuple[str | None, int | None]:
        """(regio, school_id) of the chosen option."""
        kind, _, value = (self.geldt_voor.data or "").partition(":")
        if kind == "regio":
            return value, None
        return None, int(value)

    def validate_schooljaar(self, field) -> None:
        field.data = (field.data or "").strip()
        if schooljaar_grenzen(field.data) is None:
            raise ValidationError("Vul het schooljaar in als twee jaren na elkaar, bijvoorbeeld 2026-2027.")

    def validate_geldt_voor(self, field) -> None:
        kind, _, value = (field.data or "").partition(":")
        if not ((kind == "regio" and value in VAKANTIEREGIOS)
                or (kind == "school" and value.isdigit() and int(value) in self._school_ids)):
            raise ValidationError("Kies een regio of een school van uw gemeente.")

    def validate_naam(self, field) -> None:
        field.data = " ".join((field.data or "").split()).lower()
        if len(field.data) > 60:
            raise ValidationError("Gebruik voor de naam hoogstens 60 tekens.")
        if (self.geldt_voor.data or "").startswith("regio:") and field.data not in VAKANTIENAMEN:
            raise ValidationError("Een vakantie van een regio heet herfst, kerst, voorjaar, mei of zomer.")

    def validate_eind(self, field) -> None:
        begin, eind = self.begin.data, field.data
        if begin is None or eind is None:
            return
        if eind < begin:
            raise ValidationError("De laatste vrije dag ligt voor de eerste. Kies een latere datum.")
        grenzen = schooljaar_grenzen((self.schooljaar.data or "").strip())
        if grenzen and not (grenzen[0] <= begin and eind <= grenzen[1]):
            raise ValidationError(
                f"Een vakantie van schooljaar {self.schooljaar.data.strip()} valt tussen "
                f"{format_datum(grenzen[0])} en {format_datum(grenzen[1])}. Kijk de datums na.")


class VakantieregioForm(BaseForm):
    vakantieregio = SelectField("Vakantieregio", validate_choice=False)

    def setup(self, school_naam: str) -> VakantieregioForm:
        self.vakantieregio.label.text = f"Vakantieregio van {school_naam}"
        self.vakantieregio.choices = options(
            [("", "Niet bekend")] + [(r, REGIO_LABELS[r]) for r in VAKANTIEREGIOS])
        return self

    def validate_vakantieregio(self, field) -> None:
        if (field.data or "") not in ("", *VAKANTIEREGIOS):
            raise ValidationError("Kies noord, midden of zuid.")
