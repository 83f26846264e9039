"""POST/DELETE /auth/token: bearer tokens for systems and scripts."""
from __future__ import annotations

from casework import auth
from casework.services.cases import parse_payload
from casework.services.errors import NotAuthenticated

from . import api_bp
from .schemas import RevokedOut, TokenIn, TokenOut
from .util import doc, json_body, respond


@api_bp.post("/auth/token")
@doc(summary="Token aanvragen", tag="auth", body=TokenIn, response=TokenOut,
     errors=(400, 401, 422, 429),
     description="Hetzelfde 401-antwoord voor een onbekend e-mailadres en een verkeerd wachtwoord. "
                 "Professionals (en ouders die tweestapsverificatie aanzetten) sturen `otp` mee: de "
                 "code van 6 cijfers uit hun authenticator-app of een herstelcode; elke code werkt "
                 "één keer. Zonder `otp` of met een verkeerde code: 401 met `fields.otp`.")
def create_token():
    body = parse_payload(TokenIn, json_body())
    user = auth.authenticate(body.email, body.password)
    step = auth.second_step_needed(user)
    if step == "enrol":
        message = ("Stel eerst tweestapsverificatie in: log in op de website en volg de stappen. "
                   "Daarna vraagt u een token aan met de code uit uw app in het veld otp.")
        raise NotAuthenticated(message, {"otp": [message]})
    if step == "code":
        if not (body.otp or "").strip():
            message = "Vul in het veld otp de code van 6 cijfers uit uw authenticator-app in."
            raise NotAuthenticated(message, {"otp": [message]})
        auth.check_second_step(user, body.otp)
    token, expires_at = auth.issue_token(user)  # commits
    return respond(TokenOut(token=token, expires_at=expires_at))


@api_bp.delete("/auth/token")
@doc(summary="Token intrekken", tag="auth", response=RevokedOut,
     description="Trekt het token in waarmee dit verzoek is gedaan.")
def revoke_token():
    auth.revoke_current_token()  # commits
    return respond(RevokedOut(revoked=True))
