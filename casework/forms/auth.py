"""Sign-in form."""
from __future__ import annotations

from wtforms import EmailField, PasswordField
from wtforms.validators import InputRequired

from . import BaseForm


class LoginForm(BaseForm):
    email = EmailField("E-mailadres", validators=[InputRequired("Vul uw e-mailadres in.")],
                       render_kw={"autocomplete": "username", "spellcheck": "false"})
    wachtwoord = PasswordField("Wachtwoord", validators=[InputRequired("Vul uw wachtwoord in.")],
                               render_kw={"autocomplete": "current-password"})
