"""Sign-in form."""
from __future__ import annotations

from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import InputRequired

from . import BaseForm


class LoginForm(BaseForm):
    email = EmailField("E-mailadres", validators=[InputRequired("Vul uw e-mailadres in.")],
                       render_kw={"autocomplete": "username", "spellcheck": "false"})
    wachtwoord = PasswordField("Wachtwoord", validators=[InputRequired("Vul uw wachtwoord in.")],
                               render_kw={"autocomplete": "current-password"})


class CodeForm(BaseForm):
    """The second step: a code from the authenticator app, or a recovery code."""

    code = StringField("Code", validators=[InputRequired("Vul de code uit uw app in.")],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric",
                                  "spellcheck": "false", "autocapitalize": "off", "maxlength": "20"})


class EnrolForm(BaseForm):
    code = StringField("Code uit de app", validators=[InputRequired("Vul de code van 6 cijfers uit de app in.")],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric",
                                  "pattern": "[0-9 ]*", "spellcheck": "false", "maxlength": "10"})
