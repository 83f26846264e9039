"""flask --app casework <command>: db, demo, worker, tick, audit, letters, duo."""
from __future__ import annotations

import sys

import click
from flask import Flask, current_app

from config import PROJECT_ROOT


def alembic_config():
    from alembic.config import Config

    cfg = Config(str(PROJECT_ROOT / "migrations" / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    url = current_app.config.get("MIGRATION_DATABASE_URL") or current_app.config["DATABASE_URL"]
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_database(revision: str = "head") -> None:
    """Migrate (as the owner role when MIGRATION_DATABASE_URL is set), then grant the app role."""
    from alembic import command

    command.upgrade(alembic_config(), revision)
    if current_app.config.get("DATABASE_APP_ROLE"):
        grant_app_role(current_app.config["DATABASE_APP_ROLE"])


# The app role may read and write the working tables, but only add to the audit tables: no
# UPDATE, DELETE or TRUNCATE there (seals: UPDATE, never DELETE), and as it owns nothing it
# cannot ALTER or DROP any table. The reference counters only count up: no DELETE, so a
# year's numbering cannot start over.
APPEND_ONLY_TABLES = {"audit_events": "SELECT, INSERT", "audit_seals": "SELECT, INSERT, UPDATE",
                      "access_log": "SELECT, INSERT", "access_log_seals": "SELECT, INSERT",
                      "reference_counters": "SELECT, INSERT, UPDATE",
                      "beheer_wijzigingen": "SELECT, INSERT",
                      "alembic_version": "SELECT"}


def grant_app_role(role: str) -> None:
    """PostgreSQL: give the app role its privileges on every table (run as the owner role)."""
    from sqlalchemy import create_engine, inspect, text

    url = current_app.config.get("MIGRATION_DATABASE_URL") or current_app.config["DATABASE_URL"]
    if not url.startswith("postgresql"):
        return
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            quoted = conn.dialect.identifier_preparer.quote(role)
            conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {quoted}"))
            conn.execute(text(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {quoted}"))
            for table in inspect(conn).get_table_names() + inspect(conn).get_view_names():
                name = conn.dialect.identifier_preparer.quote(table)
                conn.execute(text(f"REVOKE ALL ON {name} FROM {quoted}"))
                rights = APPEND_ONLY_TABLES.get(table, "SELECT, INSERT, UPDATE, DELETE")
                conn.execute(text(f"GRANT {rights} ON {name} TO {quoted}"))
    finally:
        engine.dispose()


def register_cli(app: Flask) -> None:
    @app.cli.group("db", help="Database: aanmaken en bijwerken (Alembic-migraties).")
    def db_group():
        """Database-migraties (Alembic)."""

    @db_group.command("upgrade", help="Maak de database aan of werk haar bij tot REVISION (standaard 'head', de nieuwste); met CASEWORK_MIGRATION_DATABASE_URL als eigenaar, daarna krijgt de app-rol haar rechten.")
    @click.argument("revision", default="head")
    def db_upgrade(revision):
        """Maak de database aan of werk haar bij."""
        upgrade_database(revision)
        click.echo("Database is bijgewerkt.")

    @db_group.command("downgrade", help="Zet de database terug naar REVISION (standaard '-1': één migratie terug). Alleen voor ontwikkelaars.")
    @click.argument("revision", default="-1")
    def db_downgrade(revision):
        from alembic import command

        command.downgrade(alembic_config(), revision)

    @db_group.command("revision", help="Maak een nieuw migratiebestand in migrations/. Alleen voor ontwikkelaars.")
    @click.option("-m", "--message", required=True, help="Korte omschrijving van de migratie (komt in de bestandsnaam).")
    @click.option("--autogenerate", is_flag=True,
                  help="Vul de migratie met de verschillen tussen modellen en database.")
    def db_revision(message, autogenerate):
        from alembic import command

        command.revision(alembic_config(), message=message, autogenerate=autogenerate)

    @app.cli.command("demo", help="Laad de demo: organisaties, gebruikers, kinderen en zaken (nogmaals uitvoeren maakt niets nieuws); geweigerd in productie.")
    @click.option("--zonder-zaken", is_flag=True,
                  help="Alleen organisaties, gebruikers en kinderen, zonder de demozaken.")
    def demo_command(zonder_zaken):
        """Laad de demodata (nogmaals kan); geweigerd in productie."""
        from .demo import load_demo

        if current_app.config.get("ENV_NAME") == "production":
            click.echo("De demodata kan niet in productie worden geladen: de demogebruikers "
                       "hebben een bekend wachtwoord. Zet CASEWORK_ENV=development voor een "
                       "proefomgeving.", err=True)
            sys.exit(1)

        summary = load_demo(with_cases=not zonder_zaken)
        click.echo(summary)

    @app.cli.command("worker", help="Maak wachtende brieven (pdf) tot u stopt (Ctrl-C); zet ook elke minuut brieven opnieuw in de wachtrij en verzegelt het toegangslog.")
    @click.option("--workers", default=2, show_default=True,
                  help="Aantal brieven dat tegelijk gemaakt wordt.")
    @click.option("--worker-type", "worker_type", type=click.Choice(["process", "thread"]),
                  default="process", show_default=True,
                  help="Elke werker een eigen proces (brieven echt tegelijk: WeasyPrint houdt de "
                       "GIL vast) of een thread in één proces.")
    def worker_command(workers, worker_type):
        """Maak wachtende brieven tot de verwerker stopt (Huey-consumer)."""
        from .extensions import db, queue
        from .letters.worker import LetterConsumer
        from .services.letters import sweep_letters

        with app.app_context():  # what is not on the queue; a second worker starting finds none
            sweep_letters()
        # Forked workers must not share the connections of this process: each opens its own.
        db.state(app).engine.dispose()
        consumer = LetterConsumer(queue.huey, workers=workers, worker_type=worker_type,
                                  periodic=True)  # from here on Ctrl-C stops it gracefully
        soort = "proces" if worker_type == "process" else "thread"
        consumer.on_started = lambda: click.echo(
            f"Brievenverwerker gestart met {workers} werkers. Elke werker is een {soort}.")
        consumer.run()

    @app.cli.command("tick", help="Voer de tijdgebonden stappen uit (herbeoordelingen starten, verlopen vrijstellingen beëindigen, verlengingsherinneringen, niet-aangevulde kennisgevingen sluiten), ruim oude inlogpogingen op, verzegel het toegangslog en toon wat over tijd is. Twee keer uitvoeren kan geen kwaad.")
    def tick_command():
        """Tijdgebonden stappen (herbeoordeling, einde vrijstelling); toon wat over tijd is."""
        from .services.scheduler import tick

        for line in tick():
            click.echo(line)
        from .auth import prune_login_attempts

        pruned = prune_login_attempts()  # sign-in attempts no delay rule looks at any more
        if pruned:
            click.echo(f"{pruned} oude inlogpogingen verwijderd")
        # Seal the closed access-log batches (as the app role: INSERT only). Pruning is not done
        # here: it deletes, which only the owner role may (flask access-log prune).
        from .services.access_log import seal_now

        sealed = seal_now()
        if sealed:
            click.echo(f"Toegangslog: {sealed} regels verzegeld")

    @app.cli.group("audit", help="De audittrail: controleren en opnieuw verzegelen.")
    def audit_group():
        """De audittrail."""

    @audit_group.command("verify", help="Controleer elke hashketen, regel-MAC, zaakzegel en het totaalzegel, en dat de status van elke zaak die van de laatste auditregel is; noemt het eerste probleem (afsluitcode 1).")
    def audit_verify():
        """Controleer elke hashketen; afsluitcode 1 en de eerste gebroken regel."""
        from .services.audit import verify_chains

        result = verify_chains()
        if result.ok:
            click.echo(f"Audit trail in orde: {result.checked} regels gecontroleerd.")
            return
        bad = result.first_bad
        if bad["case_id"] == 0:  # the global seal: no single case to name
            where = "de hele audit"
        else:
            where = f"zaak {bad['case_id']}" + (f", regel {bad['seq']}" if bad["seq"] else "")
            if result.reference:
                where += f" (kenmerk {result.reference})"
        click.echo(f"Audit trail gebroken: {where}: {result.problem}. "
                   f"({result.checked} regels gecontroleerd.)")
        sys.exit(1)

    @audit_group.command("reseal", help="Na het wisselen van de auditsleutel: controleer alles en verzegel daarna elke keten opnieuw met de huidige sleutel (weigert een gebroken trail).")
    def audit_reseal():
        """Na een sleutelwissel: controleer, verzegel dan elke keten opnieuw."""
        from .extensions import db
        from .services.audit import reseal, verify_chains

        result = verify_chains()
        if not result.ok:
            click.echo(f"Niet opnieuw verzegeld: de audit klopt niet ({result.problem}). "
                       "Zoek eerst uit wat er is gebeurd.")
            sys.exit(1)
        changed = reseal()
        db.session.commit()
        click.echo(f"Opnieuw verzegeld met sleutel {current_app.config['AUDIT_KEY_ID']}: "
                   f"{changed} verzegelingen.")

    @app.cli.group("access-log", help="Het toegangslog: verzegelen, controleren, opschonen.")
    def access_log_group():
        """Het toegangslog: verzegelen, controleren, opschonen."""

    @access_log_group.command("seal", help="Verzegel de afgesloten reeksen regels van het toegangslog (de brievenverwerker doet dit elke minuut).")
    def access_log_seal():
        """Verzegel de afgesloten reeksen van het toegangslog."""
        from .services.access_log import seal_now

        click.echo(f"Toegangslog: {seal_now()} regels verzegeld.")

    @access_log_group.command("verify", help="Controleer de MAC van elke regel en elk zegel van het toegangslog; noemt het eerste probleem (afsluitcode 1).")
    def access_log_verify():
        """Controleer elke regel-MAC en elk zegel; afsluitcode 1 bij een probleem."""
        from .extensions import db
        from .services.access_log import verify

        result = verify(db.session, current_app.config)
        where = (f"{result.rows} regels en {result.seals} zegels gecontroleerd; verzegeld tot en met "
                 f"regel {result.sealed_to} (zegel {result.last_seal})"
                 + (f", opgeschoond tot en met regel {result.pruned_to}" if result.pruned_to else ""))
        if result.ok:
            click.echo(f"Toegangslog in orde: {where}.")
            return
        click.echo(f"Toegangslog gebroken: {result.problem}. ({where}.)")
        sys.exit(1)

    @access_log_group.command("prune", help="Verwijder hele verzegelde reeksen ouder dan de bewaartermijn (CASEWORK_ACCESS_LOG_RETENTION_DAYS), als eigenaar van de database (CASEWORK_MIGRATION_DATABASE_URL); controleert eerst.")
    @click.option("--door", "actor", default=None,
                  help="Wie opschoont (standaard: de gebruiker van het besturingssysteem).")
    def access_log_prune(actor):
        """Delete whole sealed batches older than CASEWORK_ACCESS_LOG_RETENTION_DAYS, as the
        database owner (CASEWORK_MIGRATION_DATABASE_URL); verify first."""
        import getpass

        from sqlalchemy import create_engine
        from sqlalchemy.exc import DBAPIError

        from .extensions import db
        from .services.access_log import PruneRefused, prune, verify

        config = current_app.config
        result = verify(db.session, config)
        db.session.rollback()
        db.session.close()  # SQLite: no open read while the owner writes
        if not result.ok:
            click.echo(f"Niet opgeschoond: het toegangslog klopt niet ({result.problem}). "
                       "Zoek eerst uit wat er is gebeurd.")
            sys.exit(1)
        url = config.get("MIGRATION_DATABASE_URL") or config["DATABASE_URL"]
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                count, upto = prune(conn, config, actor=actor or getpass.getuser())
        except PruneRefused as refused:
            click.echo(f"Niet opgeschoond: {refused}.")
            sys.exit(1)
        except DBAPIError as error:
            if "permission denied" in str(error):
                click.echo("Niet opgeschoond: alleen de eigenaar van de database mag regels "
                           "verwijderen. Zet CASEWORK_MIGRATION_DATABASE_URL.")
                sys.exit(1)
            raise
        finally:
            engine.dispose()
        days = config["ACCESS_LOG_RETENTION_DAYS"]
        if count:
            click.echo(f"Toegangslog opgeschoond: {count} regels ouder dan {days} dagen verwijderd "
                       f"(tot en met regel {upto}).")
        else:
            click.echo(f"Toegangslog: geen verzegelde regels ouder dan {days} dagen.")

    @app.cli.group("letters", help="Brieven: opnieuw in de wachtrij zetten of direct maken.")
    def letters_group():
        """Brieven."""

    @letters_group.command("sweep", help="Zet brieven met pogingen over die niet (meer) in de wachtrij staan nu opnieuw in de wachtrij: mislukte altijd, wachtende alleen als de wachtrij leeg is.")
    def letters_sweep():
        """Zet wachtende en mislukte brieven opnieuw in de wachtrij."""
        from .services.letters import sweep_letters

        ids = sweep_letters(older_than_seconds=0)
        click.echo(f"{len(ids)} brieven opnieuw in de wachtrij gezet.")

    @letters_group.command("render-pending", help="Maak alle wachtende brieven in dit proces, zonder brievenverwerker.")
    def letters_render_pending():
        """Maak alle wachtende brieven in dit proces."""
        from sqlalchemy import select

        from .extensions import db
        from .letters.tasks import render_letter_now
        from .models import Letter

        # Letters past their attempts (e.g. synthetic ones) are left alone, as the sweep does.
        limit = current_app.config["LETTER_MAX_ATTEMPTS"]
        ids = list(db.session.scalars(select(Letter.id).where(Letter.status != "rendered",
                                                              Letter.attempts < limit)))
        done = sum(1 for i in ids if _safe_render(render_letter_now, i) == "rendered")
        click.echo(f"{done} van {len(ids)} brieven gemaakt.")

    from .cli_admin import register_admin_cli
    from .cli_duo import register_duo_cli, register_import_cli

    register_admin_cli(app)

    register_duo_cli(app)
    register_import_cli(app)
    from .synthetic import register_synthetic_cli
    register_synthetic_cli(app)


def _safe_render(fn, letter_id):
    try:
        return fn(letter_id)
    except Exception:  # noqa: BLE001 - recorded on the letter
        return "failed"
