"""Pydantic models of the API: request bodies and query strings are validated with them, responses
are serialised through them, and /openapi.json is generated from them."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    RootModel,
    WithJsonSchema,
    field_validator,
    model_serializer,
)

from casework.limits import KORT, MAX_ZOEK, KorteTekst, tekst
from casework.models import ALL_STATES, CASE_TYPES
from casework.models.organisation import ORGANISATION_KINDS


def iso_utc(value: datetime) -> str:
    """Stored timestamps are naive UTC; the API says so with a Z."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat() + "Z"


Timestamp = Annotated[
    datetime,
    PlainSerializer(iso_utc, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2026-11-23T09:30:00Z"]}),
]


MAX_PAGE = 100_000  # a page beyond this is refused (the offset must fit the database)


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- errors

_OPEN_CASE = "Alleen bij een tweede kennisgeving (409)."


class Error(Out):
    """Every error answer. A refused second kennisgeving also names the open case."""

    error: str = Field(examples=["validation_failed"])
    message: str = Field(description="Een Nederlandse zin voor een mens.")
    fields: dict[str, list[str]] = Field(
        description="Per veld wat er mis is; leeg als het niet om een veld gaat.")
    open_case_id: int | None = Field(None, description=_OPEN_CASE)
    open_case_reference: str | None = Field(None, description=_OPEN_CASE)
    report: dict[str, Any] | None = Field(
        None, description="Alleen bij een geweigerde DUO-import (422): het rapport per regel, "
                          "in dezelfde vorm als het 200-antwoord (DuoImportReport).")
    retry_after: int | None = Field(
        None, description="Alleen bij 429: over zoveel seconden mag u het opnieuw proberen "
                          "(ook in de header Retry-After).")


# ---------------------------------------------------------------- shared parts

class OrgRef(Out):
    id: int
    naam: str


class ChildIdentity(Out):
    id: int
    voornaam: str
    achternaam: str
    geboortedatum: date


class Deadline(Out):
    kind: str
    due: date
    overdue: bool


class HistoryItem(Out):
    seq: int
    event: str
    from_state: str | None
    to_state: str
    at: Timestamp
    actor_role: str


class LetterRef(Out):
    id: int
    kind: str
    recipient_role: str
    status: Literal["pending", "rendered", "failed"]
    sha256: str | None


# ---------------------------------------------------------------- cases

class CaseOut(Out):
    id: int
    type: str
    reference: str | None
    state: str
    state_label: str
    created_at: Timestamp
    updated_at: Timestamp
    version: int
    gemeente: OrgRef
    child: ChildIdentity | None = Field(
        description="null als deze gebruiker niet mag zien wie het kind is.")
    data: dict[str, Any]
    available_events: list[str]
    deadlines: list[Deadline]
    history: list[HistoryItem]
    letters: list[LetterRef]


class CaseSummary(Out):
    id: int
    type: str
    reference: str | None
    state: str
    state_label: str
    child: ChildIdentity | None
    gemeente: OrgRef
    due_on: date | None
    updated_at: Timestamp


class CaseList(Out):
    items: list[CaseSummary]
    total: int = Field(description="Het aantal zaken; bij meer dan CASEWORK_LIST_COUNT_CAP "
                                   "(standaard 10.000) zonder `q` is het dat getal en is "
                                   "`total_capped` true.")
    total_capped: bool = Field(False, description="Alleen als true aanwezig: er zijn meer zaken "
                                                  "dan `total`, de telling stopte bij het maximum.")
    page: int
    per_page: int

    @model_serializer(mode="wrap")
    def _capped_only_when_true(self, handler):
        out = handler(self)
        if not self.total_capped:  # the answer stays {"items", "total", "page", "per_page"}
            out.pop("total_capped", None)
        return out


class CaseQuery(BaseModel):
    """Query string of GET /cases."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    type: Literal[CASE_TYPES] | None = None  # type: ignore[valid-type]
    state: Literal[ALL_STATES] | None = None  # type: ignore[valid-type]
    q: str | None = Field(
        None, max_length=MAX_ZOEK,
        description="Zoekt in kenmerk en, waar u die mag zien, de naam van het kind.")
    due_before: date | None = Field(
        None, description="Alleen zaken met een termijn vóór deze datum (niet op die datum).")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(25, ge=1, le=100)


class EventEnvelope(BaseModel):
    """Sent with any event payload: the version the client saw, to refuse a lost update."""

    expected_version: int | None = Field(
        None,
        description="Versie van de zaak zoals de client die kent; wijkt die af, dan 409 conflict.")


class AuditRow(Out):
    seq: int
    event: str
    from_state: str | None
    to_state: str
    actor_id: int | None
    actor_role: str
    at: Timestamp
    payload_digest: str
    prev_hash: str
    hash: str


class AuditList(Out):
    items: list[AuditRow]


class BadRow(Out):
    case_id: int
    seq: int


class VerifyOut(Out):
    ok: bool
    checked: int
    first_bad: BadRow | None  # case_id 0: the seal over all chains; seq 0: the case as a whole
    problem: str | None = None  # what is wrong, in Dutch


# ---------------------------------------------------------------- letters

class LetterOut(Out):
    id: int
    case_id: int
    kind: str
    recipient_role: str
    status: Literal["pending", "rendered", "failed"]
    sha256: str | None
    created_at: Timestamp
    rendered_at: Timestamp | None


# ---------------------------------------------------------------- auth

class TokenIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: str = Field(max_length=KORT)
    password: str = Field(max_length=1024)
    otp: str | None = Field(
        None, max_length=20, description="Eenmalige code, voor accounts met tweestapsverificatie.")


class TokenOut(Out):
    token: str
    expires_at: Timestamp


class RevokedOut(Out):
    revoked: bool


# ---------------------------------------------------------------- children

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def bsn_valid(bsn: str) -> bool:
    """Nine digits passing the elfproef: 9*d1 + 8*d2 + ... + 2*d8 - d9 is a multiple of 11."""
    if not re.fullmatch(r"\d{9}", bsn):
        return False
    digits = [int(c) for c in bsn]
    total = sum(d * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - digits[8]
    return total % 11 == 0 and total != 0


class ChildIn(BaseModel):
    """Body of POST /children."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    bsn: str = Field(max_length=KORT, description="9 cijfers, voldoet aan de elfproef.", examples=["100023757"])
    voornaam: tekst(100, 1)
    achternaam: tekst(100, 1)
    geboortedatum: date
    geslacht: Literal["M", "V", "X"]
    adres: KorteTekst = ""
    postcode_plaats: KorteTekst = ""
    gemeente_id: int = Field(description="Gemeente waar het kind staat ingeschreven (BRP).")
    school_id: int | None = None
    ouder_emails: list[Annotated[str, Field(max_length=KORT)]] = Field(
        default_factory=list, max_length=10,
        description="E-mailadressen van bestaande ouder-accounts om te koppelen.")

    @field_validator("bsn")
    @classmethod
    def _bsn(cls, value: str) -> str:
        if not bsn_valid(value):
            raise ValueError("Dit is geen geldig BSN: 9 cijfers die voldoen aan de elfproef.")
        return value

    @field_validator("geboortedatum")
    @classmethod
    def _geboortedatum(cls, value: date) -> date:
        if value > date.today():
            raise ValueError("De geboortedatum kan niet in de toekomst liggen.")
        return value

    @field_validator("ouder_emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip().lower() for v in value if v.strip()]
        bad = [v for v in cleaned if not _EMAIL.match(v)]
        if bad:
            raise ValueError(f"Geen geldig e-mailadres: {', '.join(bad)}.")
        return cleaned


class ChildOut(Out):
    id: int
    voornaam: str
    achternaam: str
    geboortedatum: date
    gemeente: OrgRef
    school: OrgRef | None


class ChildList(Out):
    items: list[ChildOut]
    total: int
    page: int
    per_page: int


class ChildQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    q: str | None = Field(
        None, max_length=MAX_ZOEK,
        description="Naam; voor de leerplichtambtenaar ook het begin van het BSN.")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(25, ge=1, le=100)


# ---------------------------------------------------------------- organisations and people

class OrganisationOut(Out):
    id: int
    naam: str
    kind: Literal[ORGANISATION_KINDS]  # type: ignore[valid-type]


class OrganisationList(RootModel[list[OrganisationOut]]):
    pass


class OrganisationQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    kind: Literal[ORGANISATION_KINDS] | None = None  # type: ignore[valid-type]


class DeskundigeOut(Out):
    id: int
    naam: str
    organisation: OrgRef | None


class DeskundigeList(RootModel[list[DeskundigeOut]]):
    pass


# ---------------------------------------------------------------- health

class HealthOut(Out):
    status: Literal["ok", "error"]
    db: Literal["ok", "error"]
    # Only when the letter queue does not answer (api.md's 200 body stays as it is).
    queue: Literal["error"] | None = None


class RouteProposalOut(Out):
    route: str
    label: str
    reden: str
