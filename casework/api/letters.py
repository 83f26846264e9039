"""Letters: metadata and the PDF, only for users who may see that letter."""
from __future__ import annotations

from flask import Response

from casework import policy
from casework.services import audit as audit_service
from casework.services import cases as case_service
from casework.services.errors import Conflict

from . import api_bp
from .schemas import LetterOut
from .serialize import letter_out
from .util import current_user, doc, respond


class LetterPending(Conflict):
    code = "pending"


@api_bp.get("/letters/<int:letter_id>")
@doc(summary="Brief (gegevens)", tag="letters", response=LetterOut)
def get_letter(letter_id: int):
    user = current_user()
    letter = policy.get_letter_for(user, letter_id)
    return respond(letter_out(user, letter))


@api_bp.get("/letters/<int:letter_id>/pdf")
@doc(summary="Brief (PDF)", tag="letters", content_type="application/pdf",
     response=lambda components: {"type": "string", "format": "binary"}, errors=(409,),
     description="409 met `error: \"pending\"` zolang de brief nog niet is gemaakt.")
def get_letter_pdf(letter_id: int):
    user = current_user()
    letter = policy.get_letter_for(user, letter_id)
    if letter.status != "rendered":
        raise LetterPending(
            "Deze brief wordt nog gemaakt. Probeer het over een paar minuten opnieuw.")
    pdf = letter.pdf
    audit_service.log_access(user, letter.case_id, "brief", via="api")
    case_service.commit()
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{letter.kind}-{letter.id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
