"""DUO: import verzuimmeldingen from DUO's CSV, export their handling status and the
vrijstellingenregister rows for DUO."""
from __future__ import annotations

from datetime import date
from typing import Literal

from flask import Response, request
from pydantic import BaseModel, ConfigDict, Field

from casework import policy
from casework.services import cases as case_service
from casework.services import duo as duo_service
from casework.services.audit import log_access
from casework.services.errors import ValidationFailed

from . import api_bp
from .schemas import Out
from .util import current_user, doc, parse_query, respond


class DuoImportQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    dry_run: bool = Field(False, description="true: alleen controleren (proefimport), niets opslaan.")


class DuoExportQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    van: date = Field(description="Meldingen ontvangen vanaf deze datum.")
    tot: date = Field(description="Tot en met deze datum.")


class DuoVrijstellingenQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    van: date = Field(description="Begin van de periode: vrijstellingen die op of na deze datum "
                                  "nog lopen.")
    tot: date = Field(description="Einde van de periode (tot en met): vrijstellingen die op of "
                                  "voor deze datum ingaan.")


class DuoImportRow(Out):
    line: int = Field(description="Regelnummer in het bestand (de kopregel is 1).")
    bsn: str = Field(description="Gemaskeerd: alleen de laatste 3 cijfers.", examples=["******218"])
    brin: str
    verzuimsoort: str = Field(description="De code zoals in het bestand (V3, V4, LRV, L, O).")
    status: Literal["created", "valid", "refused", "duplicate"] = Field(
        description="created: aangemaakt; valid: in orde maar niet aangemaakt (proefimport of "
                    "geweigerde import); refused: zie reason; duplicate: overgeslagen.")
    reason: str
    reference: str | None = Field(description="Kenmerk van de aangemaakte zaak.")


class DuoImportCounts(Out):
    created: int
    valid: int
    refused: int
    duplicate: int
    total: int


class DuoImportReport(Out):
    dry_run: bool
    ok: bool = Field(description="false: er is niets aangemaakt (geweigerde regel of onleesbaar bestand).")
    summary: str = Field(description="Een Nederlandse zin voor een mens.")
    error: str | None = Field(description="Het bestand als geheel is onleesbaar (bv. geen UTF-8).")
    counts: DuoImportCounts
    rows: list[DuoImportRow]


def report_out(report: duo_service.ImportReport) -> DuoImportReport:
    return DuoImportReport(
        dry_run=report.dry_run, ok=report.ok, summary=report.summary, error=report.error,
        counts=DuoImportCounts(**report.counts),
        rows=[DuoImportRow(line=r.line, bsn=r.bsn, brin=r.brin, verzuimsoort=r.verzuimsoort,
                           status=r.status, reason=r.reason, reference=r.reference)
              for r in report.rows])


def _csv_body(components) -> dict:
    header = ";".join(duo_service.REQUIRED_COLUMNS + duo_service.OPTIONAL_COLUMNS)
    return {"type": "string", "description": "CSV in UTF-8 met kopregel, ; of , als scheidingsteken.",
            "examples": [f"{header}\n100174218;99BB;V3;18;2026-01-05;2026-01-30;Vaak afwezig\n"]}


@api_bp.post("/duo/import")
@doc(summary="Verzuimmeldingen van DUO importeren", tag="duo", query=DuoImportQuery,
     body=_csv_body, body_content_type="text/csv", response=DuoImportReport, errors=(422,),
     description="Alles of niets: wordt één regel geweigerd, dan wordt niets aangemaakt en is het "
                 "antwoord 422 met `fields` per regel (`regel 3`) en het hele rapport in `report`. "
                 "Dubbele meldingen worden overgeslagen. Verzuimsoort: V3 = 16_uur_4_weken, "
                 "V4 en LRV = langdurig_relatief, L = luxe, O = overig. Alleen leerlingen die in "
                 "uw gemeente wonen.")
def duo_import():
    user = current_user()
    params = parse_query(DuoImportQuery)
    gemeente_ids = policy.gemeente_ids(user)
    report = duo_service.import_meldingen(request.get_data(cache=False), dry_run=params.dry_run,
                                          gemeente_ids=gemeente_ids, reader=user)
    log_access(user, None, "duo-dry-run" if params.dry_run else "duo-import", "api")
    case_service.commit()  # the access log of the BSN lookups (the import itself committed or not)
    out = report_out(report)
    if not report.ok:
        fields = report.refused_fields() or {"bestand": [report.error or report.summary]}
        raise ValidationFailed(report.summary, fields, report=out.model_dump(mode="json"))
    return respond(out)


@api_bp.get("/duo/export")
@doc(summary="Status van verzuimmeldingen voor DUO", tag="duo", query=DuoExportQuery,
     content_type="text/csv", errors=(400, 422),
     response=lambda components: {
         "type": "string",
         "description": "CSV (;) met kopregel: " + ";".join(duo_service.EXPORT_COLUMNS)
                        + ". duo_status: R, B, G, K of I (een overdracht aan een andere gemeente is G; DUO kent D sinds 2020 niet meer)."},
     description="Eén regel per verzuimmelding (geen signalen) die van `van` tot en met `tot` "
                 "binnenkwam, met de DUO-status (artikel 21a lid 6). Bevat BSN's: elke zaak "
                 "komt in het toegangslog.")
def duo_export():
    user = current_user()
    params = parse_query(DuoExportQuery)
    text = duo_service.export_duo_status(policy.gemeente_ids(user), params.van, params.tot,
                                         reader=user, via="api")
    case_service.commit()
    name = f"duo-verzuimstatus-{params.van.isoformat()}-{params.tot.isoformat()}.csv"
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"})


@api_bp.get("/duo/vrijstellingen")
@doc(summary="Vrijstellingen 5 onder a voor het vrijstellingenregister van DUO", tag="duo",
     query=DuoVrijstellingenQuery, content_type="text/csv", errors=(400, 422),
     response=lambda components: {
         "type": "string",
         "description": "CSV (;, UTF-8 met BOM) met kopregel: "
                        + ";".join(duo_service.VRIJSTELLING_COLUMNS)
                        + ". Datums als JJJJ-MM-DD; een lege einddatum betekent: tot het einde "
                          "van de leerplicht. grond is altijd 5a."},
     description="Eén regel per vrijstelling 5 onder a van een kind uit uw gemeente waarvan de "
                 "periode (ingangsdatum tot en met einddatum, of de dag van beëindiging als die "
                 "eerder is) overlapt met `van` tot en met `tot`. Bevat BSN's: elke zaak komt in "
                 "het toegangslog.")
def duo_vrijstellingen():
    user = current_user()
    params = parse_query(DuoVrijstellingenQuery)
    text = duo_service.export_vrijstellingen(policy.gemeente_ids(user), params.van, params.tot,
                                             reader=user, via="api")
    case_service.commit()
    name = f"duo-vrijstellingen-{params.van.isoformat()}-{params.tot.isoformat()}.csv"
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"})
