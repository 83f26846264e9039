"""The kennisgeving: a parent (or the LPA, for a notice on paper) invokes vrijstelling 5 onder a."""
from __future__ import annotations

from datetime import date

from wtforms import SelectField, TextAreaField
from wtforms.validators import InputRequired

from casework.workflows import vrijstelling as vrijstelling_workflow

from . import BaseForm, DatumField, JaNeeField, child_choices, options


def schooljaren(today: date) -> list[tuple[str, str]]:
    """The running school year and the next one (a school year starts on 1 August)."""
    first = today.year if today.month >= 8 else today.year - 1
    return [
        (f"{first}-{first + 1}", f"{first}-{first + 1} (dit schooljaar)"),
        (f"{first + 1}-{first + 2}", f"{first + 1}-{first + 2} (volgend schooljaar)"),
    ]


class KennisgevingForm(BaseForm):
    limits_from = vrijstelling_workflow.DienIn

    child_id = SelectField("Voor welk kind?", coerce=int,
                           validators=[InputRequired("Kies een kind.")])
    schooljaar = SelectField("Schooljaar", validators=[InputRequired("Kies een schooljaar.")])
    toelichting = TextAreaField("Waarom kan uw kind niet naar school?", render_kw={"rows": 6})
    eerder_vrijgesteld = JaNeeField("Had uw kind al eerder een vrijstelling van de leerplicht?",
                                    default="nee")
    ontvangen_op = DatumField("Datum van ontvangst van de kennisgeving op papier")

    def setup(self, children, today: date, paper: bool) -> KennisgevingForm:
        self.child_id.choices = options(child_choices(children))
        jaren = schooljaren(today)
        self.schooljaar.choices = options(jaren)
        if self.schooljaar.data is None:
            self.schooljaar.data = jaren[1][0]
        if not paper:
            del self.ontvangen_op
        return self

    def payload(self) -> dict:
        data = {
            "child_id": self.child_id.data,
            "schooljaar": self.schooljaar.data,
            "toelichting": self.toelichting.data or "",
            "eerder_vrijgesteld": bool(self.eerder_vrijgesteld.boolean),
        }
        if "ontvangen_op" in self._fields and self.ontvangen_op.data:
            data["ontvangen_op"] = self.ontvangen_op.data.isoformat()
        return data
