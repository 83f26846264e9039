"""DUO pages of the leerplichtambtenaar (on blueprint `web`): import meldingen, export the status
and the vrijstellingenregister rows."""
from __future__ import annotations

from datetime import date

from flask import Response, render_template, request

from casework import policy
from casework.extensions import db
from casework.services import cases as case_service
from casework.services import duo as duo_service
from casework.services.audit import log_access
from casework.services.errors import DomainError

from ..forms.duo import DuoExportForm, DuoImportForm, DuoVrijstellingenForm
from .downloads import download
from .web import _GENERAL_ERROR, _attach_errors, _user, bp

# A checked file comes back in a hidden form field (base64, 4/3 larger); form fields are
# limited (MAX_FORM_MEMORY_SIZE, 500 kB by default), so a larger file is simply uploaded again.
_REMEMBER_MAX = 300_000


@bp.route("/duo/import", methods=["GET", "POST"])
def duo_import():
    user = _user()
    form = DuoImportForm()
    report, next_form, filename, error, status = None, None, None, None, 200
    reupload = False
    if form.is_submitted():
        if not form.validate():
            error, status = _GENERAL_ERROR, 422
        else:
            content = form.file_bytes()
            upload = form.bestand.data
            filename = getattr(upload, "filename", None) or None
            report = duo_service.import_meldingen(content, dry_run=bool(form.proefimport.data),
                                                  gemeente_ids=policy.gemeente_ids(user), reader=user)
            log_access(user, None, "duo-dry-run" if report.dry_run else "duo-import", "web")
            case_service.commit()  # the access log of the BSN lookups
            status = 200 if report.ok else 422
            if report.dry_run and report.ok and report.counts["valid"]:
                if len(content) <= _REMEMBER_MAX:
                    # The same file, for real, without uploading it again; it is checked again then.
                    next_form = DuoImportForm(formdata=None, inhoud=DuoImportForm.encode(content))
                else:
                    reupload = True
            form = DuoImportForm(formdata=None)
    return render_template("duo/import.html", form=form, report=report, next_form=next_form,
                           reupload=reupload, filename=filename, error=error,
                           columns=duo_service.REQUIRED_COLUMNS + duo_service.OPTIONAL_COLUMNS), status


def _file_export(form, table_of, name: str, template: str):
    """The shared flow of both DUO exports: validate the period, export, log, download as CSV
    (for DUO) or as .xlsx (to open in a spreadsheet: the BSN stays text, dates are dates)."""
    user = _user()
    error, general, status = None, [], 200
    if form.is_submitted():
        if not form.validate():
            error, status = _GENERAL_ERROR, 422
        else:
            try:
                table = table_of(policy.gemeente_ids(user), form.van.data, form.tot.data,
                                 reader=user, via="web")
                case_service.commit()  # the access log of the BSNs in the file
            except DomainError as exc:
                db.session.rollback()
                error, status = exc.message, exc.status
                general = _attach_errors(form, exc.fields)
            else:
                return download(table, f"{name}-{form.van.data.isoformat()}-{form.tot.data.isoformat()}",
                                xlsx=request.form.get("formaat") == "xlsx")
    return render_template(template, form=form, error=error, general_errors=general), status


@bp.route("/duo/export", methods=["GET", "POST"])
def duo_export():
    return _file_export(DuoExportForm().setup(date.today()), duo_service.duo_status_table,
                        "duo-verzuimstatus", "duo/export.html")


@bp.route("/duo/vrijstellingen", methods=["GET", "POST"])
def duo_vrijstellingen():
    return _file_export(DuoVrijstellingenForm().setup(date.today()),
                        duo_service.vrijstellingen_table, "duo-vrijstellingen",
                        "duo/vrijstellingen.html")
