"""flask --app casework duo import|export|vrijstellingen: DUO verzuimmeldingen in, handling
status and the vrijstellingenregister out."""
from __future__ import annotations

import sys

import click
from flask import Flask


def _gemeente_ids(codes: tuple[str, ...]) -> list[int]:
    from sqlalchemy import select

    from .extensions import db
    from .models import Organisation

    ids = []
    for code in codes:
        org = db.session.scalar(select(Organisation).where(
            Organisation.kind == "gemeente", Organisation.code == code.strip().upper()))
        if org is None:
            raise click.BadParameter(f"Onbekende gemeentecode '{code}'.", param_hint="--gemeente")
        ids.append(org.id)
    return ids


_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _run_export(table_of, gemeenten, date_from, date_to, output, one: str, many: str) -> None:
    """Both DUO exports: to a file (.xlsx when its name ends so, else CSV) or CSV to the screen."""
    from .services.errors import DomainError

    try:
        table = table_of(_gemeente_ids(gemeenten), date_from.date(), date_to.date())
    except DomainError as exc:
        raise click.UsageError(exc.message) from None
    if output:
        if output.lower().endswith(".xlsx"):
            with open(output, "wb") as fh:
                fh.write(table.to_xlsx())
        else:
            with open(output, "w", encoding="utf-8", newline="") as fh:
                fh.write(table.to_csv())
        rows = len(table.rows)
        click.echo(f"{rows} {one if rows == 1 else many} geschreven naar {output}.")
    else:
        click.echo(table.to_csv(), nl=False)


def register_import_cli(app: Flask) -> None:
    @app.cli.command("import-vrijstellingen", help="Importeer vrijstellingen die onder de oude regels zijn verleend uit FILE (CSV: bsn;begindatum;einddatum;grond[;herbeoordelingsdatum]). Wordt één regel geweigerd, dan wordt niets geïmporteerd (afsluitcode 1).")
    @click.argument("file", type=click.File("rb"))
    @click.option("--gemeente", "gemeenten", multiple=True, metavar="GMxxxx",
                  help="Alleen kinderen die in deze gemeente wonen (herhaalbaar).")
    @click.option("--dry-run", is_flag=True, help="Alleen controleren, niets opslaan.")
    def import_vrijstellingen_command(file, gemeenten, dry_run):
        """Import exemptions granted under the old rules (bsn;begindatum;einddatum;grond
        [;herbeoordelingsdatum]); exit 1 when a row is refused (then nothing is imported)."""
        from .services.import_vrijstellingen import import_vrijstellingen

        report = import_vrijstellingen(file.read(), dry_run=dry_run,
                                       gemeente_ids=_gemeente_ids(gemeenten) if gemeenten else None)
        for line in report.lines():
            click.echo(line)
        if not report.ok:
            sys.exit(1)


def register_duo_cli(app: Flask) -> None:
    @app.cli.group("duo", help="DUO: verzuimmeldingen importeren, de behandelstatus en de vrijstellingen terugmelden.")
    def duo_group():
        """DUO: verzuimmeldingen importeren, de behandelstatus en de vrijstellingen terugmelden."""

    @duo_group.command("import", help="Importeer het verzuimbestand van DUO uit FILE (CSV) en toon het verslag per regel. Wordt één regel geweigerd, dan wordt niets geïmporteerd (afsluitcode 1).")
    @click.argument("file", type=click.File("rb"))
    @click.option("--gemeente", "gemeenten", required=True, multiple=True, metavar="GMxxxx",
                  help="Gemeentecode; alleen leerlingen die hier wonen (herhaalbaar).")
    @click.option("--dry-run", is_flag=True, help="Alleen controleren, niets opslaan.")
    def duo_import(file, gemeenten, dry_run):
        """Import a DUO verzuim CSV; exit 1 when a row is refused (then nothing is imported)."""
        from .services.duo import import_meldingen

        report = import_meldingen(file.read(), dry_run=dry_run,
                                  gemeente_ids=_gemeente_ids(gemeenten))
        for line in report.lines():
            click.echo(line)
        if not report.ok:
            sys.exit(1)

    @duo_group.command("export", help="De DUO-status van elke verzuimmelding die in de periode is ontvangen, als CSV (of als Excel-bestand).")
    @click.option("--gemeente", "gemeenten", required=True, multiple=True, metavar="GMxxxx",
                  help="Gemeentecode (herhaalbaar).")
    @click.option("--van", "date_from", required=True, type=_DATE, help="Eerste dag van de periode, JJJJ-MM-DD.")
    @click.option("--tot", "date_to", required=True, type=_DATE, help="Laatste dag van de periode (tot en met), JJJJ-MM-DD.")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
                  help="Schrijf naar dit bestand in plaats van naar het scherm "
                       "(eindigt de naam op .xlsx: een Excel-bestand).")
    def duo_export(gemeenten, date_from, date_to, output):
        """The status of every verzuimmelding received in the period, as CSV for DUO."""
        from .services.duo import duo_status_table

        _run_export(duo_status_table, gemeenten, date_from, date_to, output, "melding",
                    "meldingen")

    @duo_group.command("vrijstellingen", help="Elke vrijstelling 5 onder a die in de periode loopt, als CSV voor het vrijstellingenregister van DUO (of als Excel-bestand).")
    @click.option("--gemeente", "gemeenten", required=True, multiple=True, metavar="GMxxxx",
                  help="Gemeentecode (herhaalbaar).")
    @click.option("--van", "date_from", required=True, type=_DATE, help="Eerste dag van de periode, JJJJ-MM-DD.")
    @click.option("--tot", "date_to", required=True, type=_DATE, help="Laatste dag van de periode (tot en met), JJJJ-MM-DD.")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
                  help="Schrijf naar dit bestand in plaats van naar het scherm "
                       "(eindigt de naam op .xlsx: een Excel-bestand).")
    def duo_vrijstellingen(gemeenten, date_from, date_to, output):
        """Every exemption 5 onder a running in the period, as CSV for DUO's vrijstellingenregister."""
        from .services.duo import vrijstellingen_table

        _run_export(vrijstellingen_table, gemeenten, date_from, date_to, output, "vrijstelling",
                    "vrijstellingen")
