"""WTForms per area. Forms check input types and turn it into a service payload; they never write."""
from __future__ import annotations

from datetime import date
from typing import ClassVar

from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, ValidationError
from wtforms.i18n import get_translations

try:  # WTForms 3.3 declares options as SelectChoice; tuples are deprecated there
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover - WTForms < 3.3
    SelectChoice = None

_NL = get_translations(["nl"])


def options(pairs) -> list:
    """(value, label) pairs as the installed WTForms wants its choices."""
    if SelectChoice is None:  # pragma: no cover
        return list(pairs)
    return [SelectChoice(value, label) for value, label in pairs]


def child_choices(children) -> list[tuple[int, str]]:
    """(id, "Voornaam Achternaam (geboren 3 februari 2018)") per child record. A school or a
    parent may see two records of one child, each gemeente's own (a child that moved): those
    name their gemeente, so that a report or kennisgeving goes to the gemeente the child lives in."""
    from casework.formatting import format_datum

    seen: dict[str, int] = {}
    for c in children:
        seen[c.bsn] = seen.get(c.bsn, 0) + 1
    return [(c.id, f"{c.voornaam} {c.achternaam} (geboren {format_datum(c.geboortedatum)}"
                   + (f", {c.gemeente.naam}" if seen[c.bsn] > 1 else "") + ")") for c in children]


JA_NEE = (("ja", "Ja"), ("nee", "Nee"))


def max_lengths(model) -> dict[str, int]:
    """Maximum length per text field of a payload model, as /openapi.json says it (maxLength)."""
    found = {}
    for name, prop in model.model_json_schema().get("properties", {}).items():
        for option in [prop, *prop.get("anyOf", [])]:
            if option.get("type") == "string" and "maxLength" in option:
                found[name] = option["maxLength"]
    return found


def _max_length(limit: int):
    def check(form, field):
        # A browser counts a line break as one character; it sends two (\r\n).
        text = (field.data or "").replace("\r\n", "\n") if isinstance(field.data, str) else ""
        if len(text) > limit:
            raise ValidationError(f"Deze tekst is te lang: maximaal {limit} tekens "
                                  f"(nu {len(text)}).")
    return check


def apply_limits(form, model) -> None:
    """Give every text input the payload model's maximum: maxlength in the page, and a check."""
    for name, limit in max_lengths(model).items():
        field = form._fields.get(name)
        if field is None or getattr(field, "limit", None) == limit:
            continue
        field.limit = limit
        field.render_kw = {**(field.render_kw or {}), "maxlength": limit}
        field.validators = [*field.validators, _max_length(limit)]


class BaseForm(FlaskForm):
    """A form whose built-in messages are Dutch."""

    #: the payload model whose text maximums the inputs get (see apply_limits)
    limits_from: ClassVar[type | None] = None

    class Meta:
        def get_translations(self, form):
            return _NL

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.limits_from is not None:
            apply_limits(self, self.limits_from)

    def add_error(self, name: str, message: str) -> bool:
        """Attach a message to a field; False when the form has no such field."""
        field = self._fields.get(name)
        if field is None:
            return False
        field.errors = [*field.errors, message]
        return True


class DatumField(DateField):
    """<input type="date"> with a Dutch message for a value that is not a date."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = date.fromisoformat(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError("Vul een geldige datum in (dag, maand en jaar).") from None


class JaNeeField(RadioField):
    """Two radio buttons, Ja and Nee; data is True, False or None (nothing chosen)."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("choices", options(JA_NEE))
        kwargs.setdefault("validate_choice", False)
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        value = valuelist[0] if valuelist else None
        self.data = {"ja": "ja", "nee": "nee", "true": "ja", "false": "nee"}.get(
            (value or "").strip().lower())

    def pre_validate(self, form):
        if self.raw_data and self.raw_data[0] and self.data is None:
            raise ValueError("Kies ja of nee.")

    @property
    def boolean(self) -> bool | None:
        return {"ja": True, "nee": False}.get(self.data)
