"""POST/DELETE /auth/token: bearer tokens for systems and scripts."""
from __future__ import annotations

from casework import auth
from casework.services.cases import parse_payload

from . import api_bp
from .schemas import RevokedOut, TokenIn, TokenOut
from .util import doc, json_body, respond


@api_bp.post("/auth/token")
@doc(summary="Token aanvragen", tag="auth", body=TokenIn, response=TokenOut,
     errors=(400, 401, 422, 429),
     description="Hetzelfde 401-antwoord voor een onbekend e-mailadres en een verkeerd wachtwoord.")
def create_token():
    body = parse_payload(TokenIn, json_body())
    user = auth.authenticate(body.email, body.password)
    token, expires_at = auth.issue_token(user)  # commits
    return respond(TokenOut(token=token, expires_at=expires_at))


@api_bp.delete("/auth/token")
@doc(summary="Token intrekken", tag="auth", response=RevokedOut,
     description="Trekt het token in waarmee dit verzoek is gedaan.")
def revoke_token():
    auth.revoke_current_token()  # commits
    return respond(RevokedOut(revoked=True))
