"""Report filters (GET, no CSRF: they only read): gemeente, schooljaar, peildatum; van/tot."""
from __future__ import annotations

from datetime import date

from wtforms import SelectField
from wtforms.validators import Optional, ValidationError

from . import BaseForm, DatumField, options


class _GetForm(BaseForm):
    class Meta(BaseForm.Meta):
        csrf = False


class TellingForm(_GetForm):
    gemeente = SelectField("Gemeente", coerce=int)
    schooljaar = SelectField("Schooljaar")
    peildatum = DatumField("Peildatum", validators=[Optional()])

    def setup(self, gemeenten: list[tuple[int, str]], schooljaren: list[str],
              default_schooljaar: str) -> TellingForm:
        self.gemeente.choices = options(gemeenten)
        self.schooljaar.choices = options((s, s.replace("-", "–")) for s in schooljaren)
        if not self.gemeente.raw_data and gemeenten:
            self.gemeente.data = gemeenten[0][0]
        if not self.schooljaar.raw_data:
            self.schooljaar.data = default_schooljaar
        return self


class RegioForm(_GetForm):
    van = DatumField("Vanaf", validators=[Optional()])
    tot = DatumField("Tot en met", validators=[Optional()])

    def setup(self, van: date, tot: date) -> RegioForm:
        if self.van.data is None and not self.van.raw_data:
            self.van.data = van
        if self.tot.data is None and not self.tot.raw_data:
            self.tot.data = tot
        return self

    def validate_tot(self, field) -> None:
        if self.van.data and field.data and field.data < self.van.data:
            raise ValidationError("Kies een einddatum op of na de begindatum.")
