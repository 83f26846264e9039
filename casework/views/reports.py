"""Report pages (on blueprint `web`): the gemeente's leerplichttelling with its CSV, and the
SWV's regional view. Counts only: no page here links to a case or names one."""
from __future__ import annotations

import re
from datetime import date

from flask import render_template, request
from sqlalchemy import select

from casework import policy
from casework.extensions import db
from casework.formatting import format_datum
from casework.models import Organisation
from casework.services import reports as report_service
from casework.services.errors import ValidationFailed
from casework.services.suppression import SUPPRESSED
from casework.services.tabular import Table

from ..forms.rapportage import RegioForm, TellingForm
from . import charts
from .downloads import download
from .web import _GENERAL_ERROR, _attach_errors, _user, bp

SCHOOLJAREN_TERUG = 6

VERZUIMSOORT = {"16_uur_4_weken": "16 uur in 4 weken", "langdurig_relatief": "Langdurig relatief verzuim",
                "luxe": "Luxeverzuim", "overig": "Overig verzuim"}
DUUR = {"korter_dan_6_maanden": "Korter dan 6 maanden", "6_tot_12_maanden": "6 tot en met 12 maanden",
        "12_tot_24_maanden": "12 tot en met 24 maanden", "langer_dan_24_maanden": "Langer dan 24 maanden",
        "hele_leerplicht": "Hele leerplicht (geen einddatum)",
        "onbekend": "Periode vervallen (later geschikt verklaard)"}
REDEN = {"verlopen": "Verlopen (einddatum bereikt)", "ingeschreven_op_school": "Ingeschreven op een school",
         "verhuisd": "Verhuisd", "einde_leerplicht": "Einde leerplicht", "anders": "Andere reden"}
UITKOMST = {"opnieuw_vrijgesteld": "Opnieuw vrijgesteld", "geen_vrijstelling": "Geen vrijstelling meer",
            "beeindigd": "Beëindigd zonder nieuwe verklaring", "ingetrokken": "Ingetrokken",
            "loopt_nog": "Loopt nog op de peildatum"}
ROUTE = {"vrijwillige_hulp": "Route 1: vrijwillige hulp", "halt": "Route 2: Halt-interventie",
         "verplicht_kader": "Route 3: verzoek aan de Raad", "proces_verbaal": "Route 4: proces-verbaal"}
HALT = {"positief": "Positief (naar monitoring)", "negatief": "Negatief (doorverwezen)",
        "afgesloten": "Afgesloten vanuit Halt"}
MAAND_KORT = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")


def telling_rows(t: dict) -> list[tuple[str, str, int]]:
    """The leerplichttelling as (onderdeel, uitsplitsing, aantal): the page's tables and the CSV."""
    v, z = t["vrijstellingen"], t["verzuim"]
    peil = format_datum(t["peildatum"])
    rows = [
        ("Vrijstellingen 5 onder a", "Nieuw in het schooljaar", v["nieuw"]),
        ("Vrijstellingen 5 onder a", "Waarvan na een herbeoordeling", v["waarvan_na_herbeoordeling"]),
        ("Vrijstellingen 5 onder a", f"Lopend op {peil}", v["lopend_op_peildatum"]),
        ("Vrijstellingen 5 onder a", "Beëindigd in het schooljaar", v["beeindigd"]["totaal"]),
    ]
    rows += [("Beëindigde vrijstellingen naar reden", REDEN[k], n)
             for k, n in v["beeindigd"]["per_reden"].items()]
    rows += [("Nieuwe vrijstellingen naar duur", DUUR[k], n) for k, n in v["per_duur"].items()
             if k != "onbekend" or n]
    rows.append(("Herbeoordelingen", "Gestart in het schooljaar", v["herbeoordelingen"]["gestart"]))
    rows += [("Herbeoordelingen naar uitkomst", UITKOMST[k], n)
             for k, n in v["herbeoordelingen"]["uitkomst"].items()]
    m = z["meldingen"]
    rows.append(("Verzuimmeldingen", "Totaal", m["totaal"]))
    rows += [("Verzuimmeldingen naar verzuimsoort", VERZUIMSOORT[k], n)
             for k, n in m["per_verzuimsoort"].items()]
    rows.append(("Verzuimmeldingen", "Waarvan ontvangen als melding", m["direct"]["totaal"]))
    rows.append(("Verzuimmeldingen", "Waarvan eerst een signaal", m["uit_signaal"]["totaal"]))
    rows += [("Meldingen die eerst een signaal waren, naar verzuimsoort", VERZUIMSOORT[k], n)
             for k, n in m["uit_signaal"]["per_verzuimsoort"].items()]
    rows.append(("Signalen zorgelijk verzuim", "Ontvangen", z["signalen"]["ontvangen"]))
    rows.append(("Signalen zorgelijk verzuim", f"Daarvan een melding geworden (tot en met {peil})",
                 z["signalen"]["omgezet_in_melding"]))
    rows.append((f"Thuiszitters op {peil}", "4 weken of langer afwezig",
                 z["thuiszitters"]["vier_weken_of_langer"]))
    rows.append((f"Thuiszitters op {peil}", "Langer dan 3 maanden afwezig",
                 z["thuiszitters"]["langer_dan_drie_maanden"]))
    during = z["thuiszitters"]["gedurende_schooljaar"]
    tot = format_datum(min(t["peildatum"], t["tot"]))
    rows.append((f"Thuiszitters in het schooljaar (tot en met {tot})", "4 weken of langer afwezig",
                 during["vier_weken_of_langer"]))
    rows.append((f"Thuiszitters in het schooljaar (tot en met {tot})", "Langer dan 3 maanden afwezig",
                 during["langer_dan_drie_maanden"]))
    rows += [("Gekozen routes", ROUTE[k], r["totaal"]) for k, r in z["routes"].items()]
    rows += [("Gekozen routes, na doorverwijzing", ROUTE[k], r["waarvan_doorverwezen"])
             for k, r in z["routes"].items()]
    rows += [("Afloop Halt", HALT[k], n) for k, n in z["halt_afloop"].items()]
    pv = z["processen_verbaal"]
    rows += [("Processen-verbaal", "Totaal", pv["totaal"]),
             ("Processen-verbaal", "Tegen de ouders", pv["tegen_ouders"]),
             ("Processen-verbaal", "Tegen de jongere", pv["tegen_jongere"])]
    return rows


def _schooljaren(today: date) -> list[str]:
    first = int(report_service.schooljaar_of(today)[:4])
    return [f"{y}-{y + 1}" for y in range(first, first - SCHOOLJAREN_TERUG, -1)]


def _telling_request():
    """(form, telling or None, status) for the page and the CSV: policy first (another
    gemeente: 404), then the form."""
    user = _user()
    raw = (request.args.get("gemeente") or "").strip()
    if raw:
        policy.report_gemeente_id(user, int(raw) if raw.isdigit() else -1)
    own = policy.gemeente_ids(user) if user.role in ("leerplichtambtenaar", "beheerder") else []
    names = dict(db.session.execute(
        select(Organisation.id, Organisation.naam).where(Organisation.id.in_(own))).all())
    today = date.today()
    form = TellingForm(formdata=request.args).setup(
        [(gid, names.get(gid, str(gid))) for gid in own], _schooljaren(today),
        report_service.schooljaar_of(today))
    if not own:
        policy.report_gemeente_id(user, None)  # raises: nothing to show
    if not form.validate():
        return form, None, 422
    gemeente_id = policy.report_gemeente_id(user, form.gemeente.data)
    try:
        telling = report_service.leerplichttelling(gemeente_id, form.schooljaar.data,
                                                   form.peildatum.data)
    except ValidationFailed as exc:
        _attach_errors(form, exc.fields)
        return form, None, 422
    return form, telling, 200


def _month_label(code: str, first: bool) -> str:
    year, month = int(code[:4]), int(code[5:])
    label = MAAND_KORT[month - 1]
    return f"{label} {year}" if first or month == 1 else label


def _telling_charts(t: dict) -> dict:
    v, z = t["vrijstellingen"], t["verzuim"]
    months = t["per_maand"]
    trend = charts.line_chart(
        "grafiek-trend", f"Meldingen, signalen en nieuwe vrijstellingen per maand, schooljaar {t['schooljaar']}",
        [_month_label(m["maand"], k == 0) for k, m in enumerate(months)],
        [("Meldingen", [m["meldingen"] for m in months]),
         ("Signalen", [m["signalen"] for m in months]),
         ("Nieuwe vrijstellingen", [m["vrijstellingen_nieuw"] for m in months])]) if months else None
    duur = charts.bar_chart(
        "grafiek-duur", f"Nieuwe vrijstellingen naar duur, schooljaar {t['schooljaar']}",
        [(DUUR[k], n) for k, n in v["per_duur"].items() if k != "onbekend" or n])
    routes = charts.bar_chart(
        "grafiek-routes", f"Gekozen routes, schooljaar {t['schooljaar']}",
        [(ROUTE[k], r["totaal"]) for k, r in z["routes"].items()])
    soorten = charts.bar_chart(
        "grafiek-soorten", f"Verzuimmeldingen naar verzuimsoort, schooljaar {t['schooljaar']}",
        [(VERZUIMSOORT[k], n) for k, n in z["meldingen"]["per_verzuimsoort"].items()])
    return {"trend": trend, "duur": duur, "routes": routes, "soorten": soorten}


@bp.get("/rapportage/leerplichttelling")
def telling():
    form, t, status = _telling_request()
    context = {"form": form, "t": t, "error": _GENERAL_ERROR if t is None else None}
    if t is not None:
        context.update(charts=_telling_charts(t), labels={
            "verzuimsoort": VERZUIMSOORT, "duur": DUUR, "reden": REDEN, "uitkomst": UITKOMST,
            "route": ROUTE, "halt": HALT})
    return render_template("rapportage/telling.html", **context), status


def telling_table(t: dict) -> Table:
    """The leerplichttelling as one table (the CSV and the spreadsheet)."""
    table = Table(f"Leerplichttelling {t['schooljaar']}",
                  ["Gemeente", "Schooljaar", "Peildatum", "Onderdeel", "Uitsplitsing", "Aantal"],
                  bom=True)  # a BOM and ';': Excel with Dutch settings opens it in columns, ë intact
    table.rows = [[t["gemeente"]["naam"], t["schooljaar"], t["peildatum"], onderdeel,
                   uitsplitsing, aantal] for onderdeel, uitsplitsing, aantal in telling_rows(t)]
    return table


def _telling_download(xlsx: bool):
    form, t, status = _telling_request()
    if t is None:
        return render_template("rapportage/telling.html", form=form, t=None,
                               error=_GENERAL_ERROR), status
    naam = t["gemeente"]["naam"].lower().removeprefix("gemeente ")
    slug = re.sub(r"[^a-z0-9]+", "-", naam).strip("-")
    return download(telling_table(t), f"leerplichttelling-{slug}-{t['schooljaar']}", xlsx=xlsx)


@bp.get("/rapportage/leerplichttelling.csv")
def telling_csv():
    return _telling_download(xlsx=False)


@bp.get("/rapportage/leerplichttelling.xlsx")
def telling_xlsx():
    return _telling_download(xlsx=True)


# ------------------------------------------------------------------ SWV


def _swv_charts(o: dict) -> dict:
    labels = [q["code"].replace("-K", " K") + ("" if q["volledig"] else "*") for q in o["kwartalen"]]
    tables = {t["sleutel"]: t for t in o["tabellen"]}
    verzuim = charts.line_chart(
        "grafiek-regio-verzuim", f"Verzuim in de regio {o['swv']['naam']} per kwartaal", labels,
        [("Meldingen", tables["meldingen"]["totalen"]), ("Signalen", tables["signalen"]["totalen"]),
         ("Thuiszitters", tables["thuiszitters"]["totalen"])])
    vrij = charts.line_chart(
        "grafiek-regio-vrijstellingen", f"Vrijstellingen 5 onder a in de regio {o['swv']['naam']} per kwartaal",
        labels, [("Nieuw", tables["vrijstellingen_nieuw"]["totalen"]),
                 ("Lopend", tables["vrijstellingen_lopend"]["totalen"])])
    return {"verzuim": verzuim, "vrijstellingen": vrij, "tables": tables}


@bp.get("/rapportage/regio")
def swv_overzicht():
    user = _user()
    swv_id = policy.report_swv_id(user)
    van, tot = report_service.default_swv_range(date.today())
    form = RegioForm(formdata=request.args).setup(van, tot)
    general: list[str] = []
    if form.validate():
        try:
            o = report_service.swv_overzicht(swv_id, form.van.data, form.tot.data)
        except ValidationFailed as exc:  # e.g. a period in the future or longer than five years
            general = _attach_errors(form, exc.fields)
        else:
            return render_template("rapportage/regio.html", form=form, o=o, error=None,
                                   general_errors=[], charts=_swv_charts(o), suppressed=SUPPRESSED)
    return render_template("rapportage/regio.html", form=form, o=None, error=_GENERAL_ERROR,
                           general_errors=general, suppressed=SUPPRESSED), 422
