"""Sign-in form."""
from __future__ import annotations

from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired

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


_NEW_HINT = "Minimaal 12 tekens. Een zin van een paar woorden is sterk en makkelijk te onthouden."


class _NewPasswordForm(BaseForm):
    nieuw = PasswordField("Nieuw wachtwoord", validators=[InputRequired("Vul een nieuw wachtwoord in.")],
                          render_kw={"autocomplete": "new-password"})
    herhaal = PasswordField("Nieuw wachtwoord nog een keer", validators=[
        InputRequired("Vul het nieuwe wachtwoord nog een keer in."),
        EqualTo("nieuw", "De twee nieuwe wachtwoorden zijn niet hetzelfde. Typ ze nog een keer.")],
        render_kw={"autocomplete": "new-password"})
    hint = _NEW_HINT


class ChangePasswordForm(_NewPasswordForm):
    huidig = PasswordField("Huidig wachtwoord", validators=[InputRequired("Vul uw huidige wachtwoord in.")],
                           render_kw={"autocomplete": "current-password"})


class ResetPasswordForm(_NewPasswordForm):
    pass


class ForgotPasswordForm(BaseForm):
    email = EmailField("E-mailadres", validators=[InputRequired("Vul uw e-mailadres in.")],
                       render_kw={"autocomplete": "username", "spellcheck": "false"})
