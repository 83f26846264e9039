"""The beheerder's forms for users (invite, change), children and parent links."""
from __future__ import annotations

import re
from typing import ClassVar

from wtforms import EmailField, HiddenField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from casework.api.schemas import ChildIn

from . import BaseForm, DatumField, options

# The roles a beheerder gives (a parent is linked to a child instead), in the order of the list.
ROL_LABELS = {"leerplichtambtenaar": "Leerplichtambtenaar", "jeugdarts": "Jeugdarts",
              "swv_adviseur": "Adviseur samenwerkingsverband", "school": "School",
              "beheerder": "Beheerder"}
# Which kind of organisation each role works for.
ROL_ORGANISATIE = {"leerplichtambtenaar": "gemeente", "beheerder": "gemeente", "jeugdarts": "jgz",
                   "swv_adviseur": "swv", "school": "school"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email_ok(form, field):
    if field.data and not _EMAIL.match(field.data.strip()):
        raise ValidationError("Vul een geldig e-mailadres in, zoals naam@gemeente.nl.")


class GebruikerForm(BaseForm):
    naam = StringField("Naam", render_kw={"maxlength": 200, "autocomplete": "off"},
                       validators=[InputRequired("Vul de naam in."),
                                   Length(max=200, message="De naam is te lang: maximaal 200 tekens.")])
    email = EmailField("E-mailadres", render_kw={"maxlength": 200, "autocomplete": "off"},
                       validators=[InputRequired("Vul het e-mailadres in."),
                                   Length(max=200, message="Het e-mailadres is te lang: maximaal 200 tekens."),
                                   _email_ok])
    functie = StringField("Functie", render_kw={"maxlength": 200},
                          validators=[Optional(), Length(max=200, message="De functie is te lang: maximaal 200 tekens.")])
    telefoon = StringField("Telefoonnummer", render_kw={"maxlength": 50},
                           validators=[Optional(), Length(max=50, message="Het telefoonnummer is te lang: maximaal 50 tekens.")])
    rol = SelectField("Rol", validate_choice=False, validators=[InputRequired("Kies een rol.")])
    organisatie = SelectField("Organisatie", validate_choice=False,
                              validators=[InputRequired("Kies de organisatie waar deze gebruiker werkt.")])

    hints: ClassVar[dict[str, str]] = {
        "functie": "Staat onder brieven, bijvoorbeeld Leerplichtambtenaar.",
        "telefoon": "Staat in brieven als nummer om te bellen.",
        "organisatie": "Een leerplichtambtenaar of beheerder werkt voor de gemeente, een jeugdarts voor een "
                       "JGZ-organisatie, een adviseur voor een samenwerkingsverband, een school voor een school.",
    }

    def setup(self, organisaties) -> GebruikerForm:
        self.rol.choices = options([("", "Kies een rol")] + list(ROL_LABELS.items()))
        self._orgs = {str(o.id): o for o in organisaties}
        self.organisatie.choices = options([("", "Kies een organisatie")]
                                           + [(str(o.id), f"{o.naam} ({KIND_LABELS[o.kind]})") for o in organisaties])
        return self

    def check(self) -> bool:
        """validate() and the rules between fields: a known role, an organisation of its kind."""
        ok = self.validate()
        if self.rol.data and self.rol.data not in ROL_LABELS:
            self.add_error("rol", "Kies een van de rollen uit de lijst.")
            ok = False
        org = self._orgs.get(self.organisatie.data or "")
        if self.organisatie.data and org is None:
            self.add_error("organisatie", "Kies een organisatie uit de lijst.")
            ok = False
        elif org is not None and self.rol.data in ROL_ORGANISATIE and org.kind != ROL_ORGANISATIE[self.rol.data]:
            self.add_error("organisatie", f"Een {ROL_LABELS[self.rol.data].lower()} werkt voor een "
                                          f"{KIND_LABELS[ROL_ORGANISATIE[self.rol.data]].lower()}, "
                                          f"niet voor een {KIND_LABELS[org.kind].lower()}.")
            ok = False
        return ok

    @property
    def gekozen_organisatie(self):
        return self._orgs.get(self.organisatie.data or "")


KIND_LABELS = {"gemeente": "Gemeente", "school": "School", "swv": "Samenwerkingsverband", "jgz": "JGZ"}


class UitnodigingForm(GebruikerForm):
    manier = RadioField("Hoe krijgt deze gebruiker de uitnodiging?", validate_choice=False,
                        choices=options([("email", "Per e-mail: een link om een wachtwoord te kiezen"),
                                         ("code", "Met een eenmalige code die u hierna één keer ziet en zelf doorgeeft")]),
                        validators=[InputRequired("Kies hoe de gebruiker de uitnodiging krijgt.")])

    hints: ClassVar[dict[str, str]] = {
        **GebruikerForm.hints,
        "manier": "De link of code werkt 7 dagen en één keer. Met de code gaat de gebruiker naar de pagina "
                  "Uitnodiging gebruiken, bij Inloggen.",
    }

    def check(self) -> bool:
        ok = super().check()
        if self.manier.data and self.manier.data not in ("email", "code"):
            self.add_error("manier", "Kies per e-mail of met een code.")
            ok = False
        return ok


class KindZoekForm(BaseForm):
    class Meta:
        csrf = False

    bsn = StringField("BSN van het kind", render_kw={"maxlength": 9, "inputmode": "numeric", "autocomplete": "off"},
                      validators=[InputRequired("Vul het BSN in.")])

    def validate_bsn(self, field):
        if not re.fullmatch(r"\d{9}", (field.data or "").strip()):
            raise ValidationError("Een BSN bestaat uit 9 cijfers.")


class KindForm(BaseForm):
    limits_from = ChildIn

    bsn = StringField("BSN", render_kw={"inputmode": "numeric", "autocomplete": "off"},
                      validators=[InputRequired("Vul het BSN in.")])
    voornaam = StringField("Voornaam", validators=[InputRequired("Vul de voornaam in.")])
    achternaam = StringField("Achternaam", validators=[InputRequired("Vul de achternaam in.")])
    geboortedatum = DatumField("Geboortedatum", validators=[InputRequired("Vul de geboortedatum in.")])
    geslacht = RadioField("Geslacht", validate_choice=False,
                          choices=options([("M", "Jongen"), ("V", "Meisje"), ("X", "Anders of onbekend")]),
                          validators=[InputRequired("Kies het geslacht.")])
    adres = StringField("Adres", validators=[Optional()])
    postcode_plaats = StringField("Postcode en plaats", validators=[Optional()])
    school = SelectField("School", validate_choice=False)

    hints: ClassVar[dict[str, str]] = {
        "bsn": "9 cijfers, zoals in de basisregistratie personen.",
        "school": "Laat leeg als het kind (nog) niet op een school van uw gemeente staat.",
    }

    def setup(self, scholen) -> KindForm:
        self.school.choices = options([("", "Geen school")] + [(str(s.id), s.naam) for s in scholen])
        return self


class OuderKoppelForm(BaseForm):
    email = EmailField("E-mailadres van de ouder", render_kw={"maxlength": 200, "autocomplete": "off"},
                       validators=[InputRequired("Vul het e-mailadres van de ouder in."),
                                   Length(max=200, message="Het e-mailadres is te lang: maximaal 200 tekens."),
                                   _email_ok])
    naam = StringField("Naam van de ouder", render_kw={"maxlength": 200, "autocomplete": "off"},
                       validators=[Optional(), Length(max=200, message="De naam is te lang: maximaal 200 tekens.")])
    adres = StringField("Adres van de ouder", render_kw={"maxlength": 200},
                        validators=[Optional(), Length(max=200, message="Het adres is te lang: maximaal 200 tekens.")])
    postcode_plaats = StringField("Postcode en plaats van de ouder", render_kw={"maxlength": 200},
                                  validators=[Optional(), Length(max=200, message="Te lang: maximaal 200 tekens.")])

    hints: ClassVar[dict[str, str]] = {
        "email": "Heeft deze ouder nog geen account, dan krijgt die een e-mail om een wachtwoord te kiezen.",
        "naam": "Alleen nodig als de ouder nog geen account heeft. Staat in brieven aan de ouder.",
        "adres": "Voor brieven aan de ouder; alleen nodig bij een nieuw account.",
    }


class UitnodigingCodeForm(BaseForm):
    email = EmailField("E-mailadres", render_kw={"maxlength": 200, "autocomplete": "email"},
                       validators=[InputRequired("Vul uw e-mailadres in.")])
    code = StringField("Code", render_kw={"maxlength": 24, "autocomplete": "off", "spellcheck": "false"},
                       validators=[InputRequired("Vul de code in die u kreeg.")])
    token = HiddenField()

    hints: ClassVar[dict[str, str]] = {"code": "16 letters en cijfers, bijvoorbeeld ABCD-EFGH-JKMN-PQRS."}
