"""Synthetic data at size: `flask --app casework generate --cases N [--gemeenten G] [--seed S]`.

Creates G gemeenten with their samenwerkingsverbanden, JGZ organisations, schools and users,
about one child per case, and N cases of both types spread over the last five school years.
Every case walks its workflow the way people would (the same events, payloads, data keys,
deadlines, route proposals and guards as the real workflow modules), so it ends in a realistic
state for its age, with one audit row per event (a valid hash chain: `flask audit verify` passes)
and one letter record per letter the event produces.

Fast by design: rows are built in Python, ids assigned here so the audit hashes can be computed
before the insert, and written per batch of 10,000 cases with SQLAlchemy Core `insert()`
(executemany) — on PostgreSQL with COPY on the same connection and transaction, several times
faster. Afterwards the id sequences are moved past the new ids (PostgreSQL) and the planner
statistics refreshed. It is deterministic: the same seed, peildatum and starting database give
the same rows (on SQLite and PostgreSQL alike).

How synthetic data is recognised, and kept apart from real data:
- every synthetic case reference starts with `SYN-` (e.g. `SYN-VZ-2025-0001234`), every
  synthetic organisation code with `SYN<run>-`, every synthetic e-mail address ends in
  `@synthetisch.test`, and synthetic BSNs start at 900000000 (all pass the elfproef);
- the command refuses to run on a database that holds any case without the `SYN-` prefix (real
  cases) unless `--force` is given.

Letters are recorded but never rendered: a million cases would otherwise set the worker to
render millions of PDFs. A rendered letter must have its PDF (CHECK constraint) and a pending
one is picked up by the worker, so synthetic letters are stored as `failed` with `attempts`
far above any LETTER_MAX_ATTEMPTS (the sweep never retries them) and `last_error` saying they
are synthetic; their context holds only that marker and the kenmerk.

Users of the synthetic organisations get the demo password (CASEWORK_DEMO_PASSWORD), like the
demo users, so the product can be tried at size: e.g. `leerplicht1.syn1-gm0001@synthetisch.test`.
"""
from __future__ import annotations

import bisect
import itertools
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import click
from flask import Flask, current_app
from sqlalchemy import JSON, Table, func, insert, or_, select, text, update

from .extensions import db
from .models import (
    AuditEvent, AuditSeal, Case, Child, Letter, Organisation, User, jgz_gemeenten, new_session_nonce,
    parent_children, swv_buren, swv_gemeenten, utcnow,
)
from .models.case import report_facts
from .models.organisation import VAKANTIEREGIOS
from .services.audit import GENESIS, GLOBAL_SEAL, Sealer, add_mac, row_hash
from .workflows import verzuim, vrijstelling
from .workflows.base import add_months, age_on

REFERENCE_PREFIX = "SYN-"
EMAIL_DOMAIN = "synthetisch.test"
BSN_START = 90_000_000  # the first 8 digits; the 9th is the elfproef check digit
SYNTHETIC_ERROR = "synthetisch: niet gemaakt"
SYNTHETIC_ATTEMPTS = 1_000_000  # far above any LETTER_MAX_ATTEMPTS: never retried
VRIJSTELLING_SHARE = 0.12  # of all cases; the rest is verzuim
BATCH = 10_000


class RealDataPresent(Exception):
    """The database holds real (non-synthetic) cases; generating needs --force."""


@dataclass
class GenerateReport:
    cases: int = 0
    children: int = 0
    audit_rows: int = 0
    letters: int = 0
    organisations: int = 0
    users: int = 0
    gemeente_codes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    states: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        return (f"{self.cases} zaken, {self.children} kinderen, {self.audit_rows} auditregels, "
                f"{self.letters} brieven, {self.organisations} organisaties en {self.users} "
                f"gebruikers aangemaakt in {self.seconds:.0f} s. Gemeenten: "
                f"{', '.join(self.gemeente_codes[:5])}{' …' if len(self.gemeente_codes) > 5 else ''}")


# ---------------------------------------------------------------- word lists

_VOORNAMEN_M = (
    "Daan", "Sem", "Levi", "Finn", "Luuk", "Milan", "Noah", "Lucas", "Bram", "Jesse", "Thijs",
    "Liam", "Mees", "Adam", "Sam", "Julian", "Tijn", "Gijs", "Ruben", "Thomas", "Lars", "Stijn",
    "Max", "Jayden", "Mohamed", "Ayoub", "Noud", "Siem", "Hugo", "Olivier", "Jens", "Teun",
    "Floris", "Guus", "Cas", "Mats", "Ilias", "Yusuf", "Rayan", "Owen", "Dex", "Vince", "Jurre",
    "Koen", "Tim", "Niek", "Wout", "Ravi", "Emir", "Mohammed", "Amir", "Pepijn", "Joep", "Boaz",
)
_VOORNAMEN_V = (
    "Emma", "Julia", "Mila", "Tess", "Sophie", "Zoë", "Sara", "Nora", "Yara", "Eva", "Liv",
    "Lotte", "Noor", "Evi", "Saar", "Anna", "Lynn", "Fenna", "Lieke", "Fleur", "Isa", "Roos",
    "Sanne", "Femke", "Lisa", "Amira", "Fatima", "Malak", "Hiba", "Ilse", "Jasmijn", "Elin",
    "Maud", "Vera", "Luna", "Olivia", "Hanna", "Nina", "Lara", "Esmee", "Ilona", "Romy", "Merel",
    "Iris", "Janna", "Nova", "Lena", "Aya", "Selin", "Elif", "Dewi", "Puck", "Floor", "Senna",
)
_ACHTERNAMEN = (
    "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser",
    "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks",
    "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer",
    "van der Linden", "Kok", "Jacobs", "de Haan", "Vermeulen", "van den Heuvel", "van der Veen",
    "van den Broek", "de Bruijn", "de Bruin", "van der Heijden", "Schouten", "van Beek",
    "Willems", "van Vliet", "van de Ven", "Hoekstra", "Maas", "Verhoeven", "Koster", "van Dam",
    "van der Wal", "Prins", "Blom", "Huisman", "Peeters", "de Lange", "van Wijk", "Kuipers",
    "Postma", "Veenstra", "Kramer", "van den Bosch", "Vermeer", "Bosch", "Koning", "van Rijn",
    "Sanders", "Yilmaz", "El Amrani", "Bouzid", "Kaya", "Demir", "Öztürk", "Haddou", "Benali",
    "Nguyen", "Pinas", "Rijkaard", "Nijholt", "Zwart", "Timmermans", "Groen", "Gerritsen",
    "Bosman", "Kuijpers", "Claassen", "Wouters", "Evers", "Scholten", "Post", "Kroon", "Hermans",
    "Lammers", "Wolters", "Martens", "Hoek", "van Loon", "Brink", "Veldhuis", "Verbeek", "Jonker",
    "Ramdin", "Tahiri", "Aydın", "Mahabier", "Sahin", "Ouali", "Bulut", "Celik", "Yıldız",
)
_STRATEN = (
    "Kerkstraat", "Schoolstraat", "Molenweg", "Dorpsstraat", "Stationsweg", "Lindelaan",
    "Beukenlaan", "Eikenlaan", "Julianastraat", "Wilhelminastraat", "Prins Bernhardlaan",
    "Marktstraat", "Nieuwstraat", "Kastanjelaan", "Irisstraat", "Tulpstraat", "Rozenstraat",
    "Sportlaan", "Parkweg", "Vondelstraat", "Rembrandtlaan", "Bachlaan", "Mozartstraat",
    "Havenstraat", "Dijkweg", "Kanaalweg", "Slotlaan", "Meidoornstraat", "Populierenlaan",
    "Berkenlaan", "Zonnebloemstraat", "Merelstraat", "Lijsterstraat", "Spoorstraat", "Hoofdstraat",
)
_PLAATS_A = ("Zuid", "Noord", "Oost", "West", "Nieuw", "Oud", "Hoog", "Laag", "Groot", "Klein",
             "Wester", "Ooster", "Ber", "Linde", "Elst", "Haven", "Vlier", "Hazel", "Ros", "Veld")
_PLAATS_B = ("broek", "dam", "veen", "hoven", "wijk", "dorp", "horst", "berg", "meer", "zijl",
             "kerk", "wolde", "sloot", "rade", "stein", "hem", "land", "loo", "beek", "haven")
_SCHOOL_PO = ("Basisschool De {}", "OBS De {}", "CBS De {}", "Kindcentrum De {}", "IKC De {}")
_SCHOOL_VO = ("{} College", "Lyceum {}", "Scholengemeenschap {}", "{} Vmbo", "Het {} College")
_SCHOOL_WOORD = ("Regenboog", "Wegwijzer", "Springplank", "Klimop", "Zonnewijzer", "Vlinder",
                 "Horizon", "Sterrenwacht", "Kameleon", "Ontdekking", "Windroos", "Linde",
                 "Boomgaard", "Vuurtoren", "Fontein", "Esdoorn", "Meander", "Poolster", "Wilg",
                 "Notenbalk")
_SITUATIES = (
    "Structureel te laat in het eerste lesuur (verzuimbeleid, situatie 2).",
    "Blijft thuis om broertjes en zusjes naar school te brengen (situatie 4).",
    "Spijbelt losse uren om te werken (situatie 5).",
    "Vaak ziek gemeld op maandag (situatie 3).",
    "Mist regelmatig de middaglessen (situatie 1).",
)
_OMSCHRIJVINGEN = (
    "Vaak afwezig in de ochtend.", "Meerdere dagen ongeoorloofd afwezig.",
    "Week eerder op vakantie zonder verlof.", "Sinds de herfstvakantie niet meer op school.",
    "Regelmatig lessen gemist zonder bericht.", "Ouders melden ziek, school twijfelt.",
)
_OORZAKEN = {
    "zorg_of_gezondheid": "Somberheid en slaapproblemen; huisarts is in beeld.",
    "thuissituatie": "Zorgen thuis: ouder is ziek, leerling zorgt voor broertjes.",
    "pesten_of_veiligheid": "Wordt gepest in de klas; voelt zich niet veilig.",
    "geen_passend_aanbod": "Onderwijs sluit niet aan; wacht op plek in het speciaal onderwijs.",
    "eigen_initiatief": "Spijbelt met vrienden; geen zorgen op de achtergrond gevonden.",
    "luxe": "Vakantie verlengd zonder verlof.",
    "onbekend": "Reden nog onduidelijk na het gesprek.",
}
_UITKOMST = {"vrijwillige_hulp": "hulp_gestart", "halt": "halt_positief",
             "verplicht_kader": "raad_ingeschakeld", "proces_verbaal": "pv_ingestuurd"}

_MONTH_WEIGHT = {1: 1.0, 2: 0.9, 3: 1.1, 4: 0.9, 5: 1.0, 6: 1.0, 7: 0.4, 8: 0.25, 9: 1.1,
                 10: 1.0, 11: 1.2, 12: 0.7}


def _bsn(prefix: int) -> str | None:
    """The 9-digit BSN with these first 8 digits that passes the elfproef, if there is one."""
    digits = f"{prefix:08d}"
    total = sum(int(d) * w for d, w in zip(digits, range(9, 1, -1), strict=True))
    check = total % 11
    return None if check == 10 else f"{digits}{check}"


def school_year_start(day: date) -> int:
    return day.year if day.month >= 8 else day.year - 1


class _Stub:
    """What a LetterSpec.when or a workflow's deadlines read of a case."""

    __slots__ = ("data", "einddatum", "herbeoordelingsdatum", "state")

    def __init__(self, state: str, data: dict, einddatum=None, herbeoordelingsdatum=None):
        self.state, self.data = state, data
        self.einddatum, self.herbeoordelingsdatum = einddatum, herbeoordelingsdatum


class _AuditRow:
    """An audit row as audit.row_hash reads it."""

    __slots__ = ("actor_id", "actor_role", "at", "case_id", "details", "event", "from_state",
                 "payload_digest", "prev_hash", "seq", "to_state")


# ---------------------------------------------------------------- the generator


class _Generator:
    def __init__(self, n_cases: int, n_gemeenten: int, seed: int, peildatum: date,
                 settings: dict) -> None:
        self.rng = random.Random(seed)
        self.n_cases, self.n_gemeenten = n_cases, n_gemeenten
        self.peildatum = peildatum
        self.settings = settings
        self.dialect = self.conn.dialect.name
        self.report = GenerateReport()
        self.next_id = {t: (self.conn.scalar(select(func.max(t.c.id))) or 0) + 1
                        for t in (Organisation.__table__, User.__table__, Child.__table__,
                                  Case.__table__, AuditEvent.__table__, Letter.__table__)}
        self.run = self._next_run()
        self.password_hash = self._password_hash()
        self.bsn_prefix = self._first_bsn_prefix()
        self._days, self._day_weights = self._day_distribution()
        self.halt_children: set[int] = set()
        self._buffers: dict[Table, list[dict]] = {}
        # Rows and seals are keyed like append_audit's; the global seal takes each batch's sum.
        self.sealer = Sealer(settings)
        self._sealed = [0, 0, GENESIS]  # rows, cases, sum of case seal MACs not yet in the global seal

    # ------------------------------------------------------------ ids, markers, buffers

    @property
    def conn(self):
        # The session's connection of the moment: a commit between batches ends the previous one.
        return db.session.connection()

    def _id(self, table: Table) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def _next_run(self) -> int:
        codes = self.conn.scalars(select(Organisation.code).where(Organisation.code.like("SYN%-%")))
        runs = [int(c[3:c.index("-")]) for c in codes if c and c[3:c.index("-")].isdigit()]
        return max(runs, default=0) + 1

    def _password_hash(self) -> str:
        from .auth import hash_password

        return hash_password(self.settings["DEMO_PASSWORD"])

    def _first_bsn_prefix(self) -> int:
        highest = self.conn.scalar(select(func.max(Child.bsn)).where(Child.bsn >= f"{BSN_START}0"))
        return int(highest[:8]) + 1 if highest and highest.isdigit() else BSN_START

    def _next_bsn(self) -> str:
        while True:
            bsn = _bsn(self.bsn_prefix)
            self.bsn_prefix += 1
            if bsn is not None:
                return bsn

    def _add(self, table: Table, row: dict) -> None:
        self._buffers.setdefault(table, []).append(row)

    def _flush(self) -> None:
        # Parents before children: foreign keys are checked per statement.
        order = (Organisation.__table__, swv_gemeenten, swv_buren, jgz_gemeenten, User.__table__,
                 Child.__table__, parent_children, Case.__table__, AuditEvent.__table__,
                 AuditSeal.__table__, Letter.__table__)
        if self.dialect == "sqlite":
            # The default page cache (2 MB) turns the index inserts of a large load into disk
            # reads; 256 MB for this connection (a commit may hand us another one: every batch).
            self.conn.exec_driver_sql("PRAGMA cache_size = -262144")
        for table in order:
            rows = self._buffers.pop(table, None)
            if not rows:
                continue
            if self.dialect == "postgresql":
                self._copy(table, rows)
                continue
            for start in range(0, len(rows), BATCH):
                self.conn.execute(insert(table), rows[start:start + BATCH])
        assert not self._buffers
        self._seal_batch()

    def _seal_batch(self) -> None:
        """Add the chains just written to the global seal (locked, like append_audit does)."""
        rows, cases, acc = self._sealed
        if not cases:
            return
        table = AuditSeal.__table__
        whole = self.conn.execute(select(table).where(table.c.case_id == GLOBAL_SEAL)
                                  .with_for_update()).first()
        if whole is None:
            self.conn.execute(insert(table).values(
                case_id=GLOBAL_SEAL, n_rows=0, n_cases=0, head=GENESIS, key_id=self.sealer.key_id,
                mac="", updated_at=utcnow()))
            whole = self.conn.execute(select(table).where(table.c.case_id == GLOBAL_SEAL)).first()
        n_rows, n_cases, head = whole.n_rows + rows, whole.n_cases + cases, add_mac(whole.head, acc)
        key_id = self.sealer.key_id
        self.conn.execute(update(table).where(table.c.case_id == GLOBAL_SEAL).values(
            n_rows=n_rows, n_cases=n_cases, head=head, key_id=key_id, updated_at=utcnow(),
            mac=self.sealer.global_mac(key_id, n_rows, n_cases, head)))
        self._sealed = [0, 0, GENESIS]

    def _copy(self, table: Table, rows: list[dict]) -> None:
        """PostgreSQL: COPY … FROM STDIN on the session's own connection (and transaction)."""
        columns = list(rows[0])
        json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
        dumps = json.dumps
        cursor = self.conn.connection.dbapi_connection.cursor()
        try:
            statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
            with cursor.copy(statement) as copy:
                if json_columns:
                    for row in rows:
                        copy.write_row([dumps(v) if k in json_columns and v is not None else v
                                        for k, v in row.items()])
                else:
                    for row in rows:
                        copy.write_row(list(row.values()))
        finally:
            cursor.close()

    # ------------------------------------------------------------ dates

    def _day_distribution(self) -> tuple[list[date], list[float]]:
        """Working days of the last five school years, weighted by season and a slow rise."""
        first = date(school_year_start(self.peildatum) - 4, 8, 1)
        days, cumulative, total = [], [], 0.0
        day = first
        while day <= self.peildatum:
            if day.weekday() < 5:
                years = (day - first).days / 365.25
                total += _MONTH_WEIGHT[day.month] * (1 + 0.06 * years)
                days.append(day)
                cumulative.append(total)
            day += timedelta(days=1)
        return days, cumulative

    def _random_day(self) -> date:
        x = self.rng.random() * self._day_weights[-1]
        return self._days[bisect.bisect_left(self._day_weights, x)]

    def _at(self, day: date) -> datetime:
        """A moment in office hours (UTC) on that day."""
        return datetime(day.year, day.month, day.day, self.rng.randint(7, 15),
                        self.rng.randint(0, 59), self.rng.randint(0, 59))

    def _after(self, day: date, low: int, high: int) -> date:
        return day + timedelta(days=self.rng.randint(low, high))

    # ------------------------------------------------------------ organisations and users

    def organisations(self) -> None:
        rng, run = self.rng, self.run
        names = [a + b for a in _PLAATS_A for b in _PLAATS_B]
        rng.shuffle(names)
        weights = [1 / (i + 1) ** 0.7 for i in range(self.n_gemeenten)]  # a few large, many small
        total = sum(weights)
        self.gemeente_weights = list(itertools.accumulate(w / total for w in weights))
        self.gemeenten: list[dict] = []
        for i in range(self.n_gemeenten):
            base = names[i % len(names)]
            naam = base if i < len(names) else f"{base} {i // len(names) + 1}"
            code = f"SYN{run}-GM{i + 1:04d}"
            g = {"id": self._org("gemeente", code, f"Gemeente {naam}", naam, None),
                 "code": code, "naam": naam, "share": weights[i] / total,
                 "po": [], "vo": [], "lpa": [], "swv": None, "jgz": None}
            self.gemeenten.append(g)
            self.report.gemeente_codes.append(code)

        # One SWV per three gemeenten (a region), neighbours in a ring; one JGZ per four.
        self.swvs: list[dict] = []
        for r, start in enumerate(range(0, self.n_gemeenten, 3)):
            region = self.gemeenten[start:start + 3]
            code = f"SYN{run}-SWV{r + 1:03d}"
            swv = {"id": self._org("swv", code, f"SWV {region[0]['naam']} e.o.", region[0]["naam"],
                                   None), "code": code, "adviseurs": []}
            for g in region:
                g["swv"] = swv
                self._add(swv_gemeenten, {"swv_id": swv["id"], "gemeente_id": g["id"]})
            self.swvs.append(swv)
        n_swv = len(self.swvs)
        for i in range(n_swv if n_swv > 2 else n_swv - 1):  # a ring; two SWVs: one pair
            a, b = self.swvs[i], self.swvs[(i + 1) % n_swv]
            self._add(swv_buren, {"swv_id": a["id"], "buur_id": b["id"]})
            self._add(swv_buren, {"swv_id": b["id"], "buur_id": a["id"]})
        for j, start in enumerate(range(0, self.n_gemeenten, 4)):
            region = self.gemeenten[start:start + 4]
            code = f"SYN{run}-JGZ{j + 1:03d}"
            jgz = {"id": self._org("jgz", code, f"GGD {region[0]['naam']}", region[0]["naam"], None),
                   "artsen": []}
            for g in region:
                g["jgz"] = jgz
                self._add(jgz_gemeenten, {"jgz_id": jgz["id"], "gemeente_id": g["id"]})
            for k in range(2 + len(region) // 2):
                jgz["artsen"].append(self._user(f"jeugdarts{k + 1}.{code.lower()}", "Jeugdarts",
                                                "jeugdarts", jgz["id"]))
        for swv in self.swvs:
            for k in range(2):
                swv["adviseurs"].append(self._user(
                    f"adviseur{k + 1}.{swv['code'].lower()}", "Adviseur passend onderwijs",
                    "swv_adviseur", swv["id"]))

        school_no = itertools.count(1)
        for g in self.gemeenten:
            expected = self.n_cases * g["share"]
            n_schools = max(4, min(250, round(expected / 400)))
            for s in range(n_schools):
                kind = "po" if s < max(2, round(n_schools * 0.6)) else "vo"
                pattern = rng.choice(_SCHOOL_PO if kind == "po" else _SCHOOL_VO)
                naam = pattern.format(rng.choice(_SCHOOL_WOORD))
                code = f"SYN{run}-S{next(school_no):05d}"
                school_id = self._org("school", code, naam, g["naam"], g["id"])
                coordinator = self._user(f"verzuim.{code.lower()}", "Verzuimcoördinator", "school",
                                         school_id)
                g[kind].append((school_id, coordinator))
            for k in range(max(1, min(5, round(expected / 20_000)))):
                g["lpa"].append(self._user(f"leerplicht{k + 1}.{g['code'].lower()}",
                                           "Leerplichtambtenaar", "leerplichtambtenaar", g["id"]))
            self._user(f"beheer.{g['code'].lower()}", "Functioneel beheerder", "beheerder", g["id"])
        self._flush()

    def _org(self, kind: str, code: str, naam: str, plaats: str, gemeente_id: int | None) -> int:
        org_id = self._id(Organisation.__table__)
        slug = code.lower()
        self._add(Organisation.__table__, {
            "id": org_id, "kind": kind, "naam": naam, "code": code,
            "adres": f"{self.rng.choice(_STRATEN)} {self.rng.randint(1, 120)}",
            "postcode_plaats": f"{self.rng.randint(1000, 9999)} {self._postcode_letters()} {plaats}",
            "telefoon": f"0{self.rng.randint(10, 99)} {self.rng.randint(100, 999)} "
                        f"{self.rng.randint(1000, 9999)}",
            "email": f"info.{slug}@{EMAIL_DOMAIN}", "max_herbeoordeling_maanden": None,
            "gemeente_id": gemeente_id,
            # A school's holiday region, the same for every school of its gemeente (no draw:
            # the random series stays as it was).
            "vakantieregio": VAKANTIEREGIOS[gemeente_id % 3] if kind == "school" else None})
        self.report.organisations += 1
        return org_id

    def _postcode_letters(self) -> str:
        return "".join(self.rng.choice("ABCDEGHJKLMNPRSTVWXZ") for _ in range(2))

    def _user(self, local: str, functie: str, role: str, org_id: int | None, naam: str | None = None,
              adres: tuple[str, str] = ("", "")) -> int:
        user_id = self._id(User.__table__)
        if naam is None:
            sex = self.rng.random() < 0.5
            naam = (f"{self.rng.choice(_VOORNAMEN_V if sex else _VOORNAMEN_M)} "
                    f"{self.rng.choice(_ACHTERNAMEN)}")
        self._add(User.__table__, {
            "id": user_id, "email": f"{local}@{EMAIL_DOMAIN}", "naam": naam, "functie": functie,
            "telefoon": "", "password_hash": self.password_hash, "role": role,
            "organisation_id": org_id, "active": True, "session_nonce": new_session_nonce(),
            "adres": adres[0], "postcode_plaats": adres[1],
            # like the demo: professionals have the second step set up with the demo secret
            "totp_secret": None if role == "ouder" else current_app.config["DEMO_TOTP_SECRET"],
            "totp_enrolled_at": None if role == "ouder" else datetime(2026, 1, 1)})
        self.report.users += 1
        return user_id

    def _pick_gemeente(self) -> dict:
        return self.gemeenten[bisect.bisect_left(self.gemeente_weights, self.rng.random() *
                                                 self.gemeente_weights[-1])]

    # ------------------------------------------------------------ children

    def _child(self, g: dict, geboortedatum: date, school_kind: str, parent_share: float) -> dict:
        rng = self.rng
        geslacht = rng.choices(("M", "V", "X"), (49, 49, 2))[0]
        voornaam = rng.choice(_VOORNAMEN_V if geslacht == "V" else _VOORNAMEN_M
                              if geslacht == "M" else _VOORNAMEN_V + _VOORNAMEN_M)
        achternaam = rng.choice(_ACHTERNAMEN)
        adres = f"{rng.choice(_STRATEN)} {rng.randint(1, 250)}"
        plaats = f"{rng.randint(1000, 9999)} {self._postcode_letters()} {g['naam']}"
        schools = g[school_kind] or g["po"] or g["vo"]
        school_id, coordinator = rng.choice(schools)
        child = {"id": self._id(Child.__table__), "bsn": self._next_bsn(), "voornaam": voornaam,
                 "achternaam": achternaam, "geboortedatum": geboortedatum, "geslacht": geslacht,
                 "adres": adres, "postcode_plaats": plaats, "gemeente_id": g["id"],
                 "school_id": school_id}
        self._add(Child.__table__, child)
        self.report.children += 1
        parents: list[int] = []
        if rng.random() < parent_share:
            parent_id = self._user(f"ouder{child['id']}.syn{self.run}", "", "ouder", None,
                                   naam=f"{rng.choice(_VOORNAMEN_V + _VOORNAMEN_M)} {achternaam}",
                                   adres=(adres, plaats))
            self._add(parent_children, {"user_id": parent_id, "child_id": child["id"]})
            parents.append(parent_id)
        return {"row": child, "g": g, "school_id": school_id, "coordinator": coordinator,
                "parents": parents, "cases": 0}

    def _birth_date(self, day: date, low: int, high: int) -> date:
        """Someone aged low..high (inclusive) on day."""
        days_old = self.rng.randint(low * 365 + 1, high * 365 + 364)
        return day - timedelta(days=days_old)

    # ------------------------------------------------------------ cases

    def cases(self, commit: Callable[[], None] | None,
              progress: Callable[[int, int], None] | None) -> None:
        done = 0
        recent_verzuim: list[dict] = []
        while done < self.n_cases:
            size = min(BATCH, self.n_cases - done)
            for _ in range(size):
                if self.rng.random() < VRIJSTELLING_SHARE:
                    self._vrijstelling_case()
                else:
                    child = None
                    if recent_verzuim and self.rng.random() < 0.08:  # a pupil reported again
                        child = self.rng.choice(recent_verzuim)
                    child = self._verzuim_case(child)
                    if child["cases"] > 1:
                        continue
                    if len(recent_verzuim) < 5000:
                        recent_verzuim.append(child)
                    else:
                        recent_verzuim[self.rng.randrange(5000)] = child
            self._flush()
            done += size
            if commit is not None:
                commit()
            if progress is not None:
                progress(done, self.n_cases)

    def _new_case(self, case_type: str, child: dict) -> _CaseBuilder:
        child["cases"] += 1
        return _CaseBuilder(self, case_type, self._id(Case.__table__), child)

    # -- vrijstelling 5 onder a

    def _vrijstelling_case(self) -> None:
        rng, end = self.rng, self.peildatum
        g = self._pick_gemeente()
        day = self._random_day()
        child = self._child(g, self._birth_date(day, 4, 15), "po", parent_share=0.85)
        geboortedatum = child["row"]["geboortedatum"]
        c = self._new_case(vrijstelling.CASE_TYPE, child)
        lpa = rng.choice(g["lpa"])
        ouder = child["parents"][0] if child["parents"] else None
        year = school_year_start(day) + (1 if 2 <= day.month <= 7 else 0)
        # A kennisgeving is for a school year in which the child is leerplichtig.
        year = max(year, int(vrijstelling.schooljaar_van(vrijstelling.leerplicht_start(geboortedatum))[:4]))
        schooljaar = f"{year}-{year + 1}"
        deadline = vrijstelling.kennisgeving_deadline(geboortedatum, schooljaar)
        papier = ouder is None or rng.random() < 0.25
        c.data = {"schooljaar": schooljaar, "toelichting": "Ons kind kan door ziekte niet naar school.",
                  "eerder_vrijgesteld": rng.random() < 0.2, "ontvangen_op": day.isoformat(),
                  "kennisgeving_deadline": deadline.isoformat(), "te_laat": day > deadline,
                  "papier": papier}
        payload = {"child_id": child["row"]["id"], "schooljaar": schooljaar,
                   "toelichting": c.data["toelichting"],
                   "eerder_vrijgesteld": c.data["eerder_vrijgesteld"],
                   "ontvangen_op": day.isoformat() if papier else None}
        c.event("dien_in", day, "kennisgeving_ontvangen", (lpa, "leerplichtambtenaar") if papier
                else (ouder, "ouder"), payload)
        leerplicht_end = date(add_months(geboortedatum, 16 * 12).year
                              + (1 if geboortedatum.month >= 8 else 0), 7, 31)

        while c.is_open:
            state, d = c.state, c.day
            r = rng.random()
            if state == "kennisgeving_ontvangen":
                if ouder is not None and r < 0.08:
                    nxt = self._after(d, 3, 14)
                    if nxt > end:
                        break
                    until = nxt + timedelta(days=self.settings["AANVUL_TERMIJN_DAGEN"])
                    reden = "De verklaring van de school ontbreekt."
                    c.data.update(reden_niet_ontvankelijk=reden, aanvullen_voor=until.isoformat())
                    c.event("verklaar_niet_ontvankelijk", nxt, "niet_ontvankelijk",
                            (rng.choice(g["lpa"]), "leerplichtambtenaar"), {"reden": reden})
                elif ouder is not None and r < 0.12:
                    self._trek_in(c, ouder, end)
                else:
                    nxt = self._after(d, 2, 14)
                    if nxt > end:
                        break
                    arts = rng.choice(g["jgz"]["artsen"])
                    motivering = ("Ouders waren lang in het buitenland." if c.data["te_laat"]
                                  else None)
                    due = nxt + timedelta(days=self.settings["BEOORDEEL_TERMIJN_DAGEN"])
                    c.deskundige_id = arts
                    c.data.update(motivering_te_laat=motivering, in_behandeling_op=nxt.isoformat(),
                                  beoordelen_voor=due.isoformat())
                    c.event("neem_in_behandeling", nxt, "in_behandeling",
                            (rng.choice(g["lpa"]), "leerplichtambtenaar"),
                            {"deskundige_id": arts, "motivering_te_laat": motivering})
            elif state == "niet_ontvankelijk":
                if r < 0.75:
                    nxt = self._after(d, 3, 25)
                    if nxt > end:
                        break
                    aanvulling = "De verklaring van de school is bijgevoegd."
                    c.data.update(aanvulling=aanvulling, aangevuld_op=nxt.isoformat())
                    c.event("vul_aan", nxt, "kennisgeving_ontvangen", (ouder, "ouder"),
                            {"aanvulling": aanvulling})
                elif r < 0.85:
                    self._trek_in(c, ouder, end)
                else:
                    break  # never completed: stays open, its deadline passed
            elif state in ("in_behandeling", "herbeoordeling"):
                if state == "herbeoordeling" and c.einddatum and c.einddatum < self._after(d, 7, 30):
                    self._beeindig(c, c.einddatum + timedelta(days=1), "verlopen", None, end)
                elif state == "in_behandeling" and ouder is not None and r < 0.03:
                    self._trek_in(c, ouder, end)
                elif state == "herbeoordeling" and r < 0.15:
                    self._beeindig(c, self._after(d, 7, 40), "ingeschreven_op_school", g, end)
                else:
                    self._vraag_advies(c, g, child, self._after(d, 7, 30), end)
            elif state == "advies_gevraagd":
                if ouder is not None and r < 0.02 and c.ingangsdatum is None:
                    self._trek_in(c, ouder, end)
                    continue
                nxt = self._after(d, 7, 35)
                if nxt > end:
                    break
                persoonlijk = bool(c.toestemming) and rng.random() < 0.8
                advies = "Een onderwijszorgarrangement of digitaal afstandsonderwijs."
                mogelijkheden = ["Onderwijszorgarrangement De Brug", "Digitaal afstandsonderwijs"]
                c.data.update(advies=advies, advies_soort="persoonlijk" if persoonlijk else "algemeen",
                              mogelijkheden=mogelijkheden, advies_uitgebracht_op=nxt.isoformat())
                c.event("breng_advies_uit", nxt, "advies_uitgebracht",
                        (rng.choice(c.swv["adviseurs"]), "swv_adviseur"),
                        {"advies": advies, "soort": c.data["advies_soort"],
                         "mogelijkheden": mogelijkheden})
            elif state == "advies_uitgebracht":
                if ouder is not None and r < 0.02 and c.ingangsdatum is None:
                    self._trek_in(c, ouder, end)
                    continue
                nxt = self._after(d, 3, 21)
                if nxt > end:
                    break
                self._geef_verklaring(c, nxt, geschikt=rng.random() < 0.15)
            elif state == "vrijgesteld":
                early = self._after(c.ingangsdatum, 30, 300)
                herb_start = max(c.ingangsdatum + timedelta(days=1), c.herbeoordelingsdatum
                                 - timedelta(days=self.settings["HERBEOORDELING_LEAD_DAYS"]))
                if leerplicht_end < herb_start:
                    self._beeindig(c, max(d, leerplicht_end + timedelta(days=1)),
                                   "einde_leerplicht", g, end)
                elif r < 0.08 and early < herb_start:
                    reden = "verhuisd" if rng.random() < 0.35 else "ingeschreven_op_school"
                    self._beeindig(c, early, reden, g, end)
                else:
                    if herb_start > end:
                        break
                    due = herb_start + timedelta(days=self.settings["BEOORDEEL_TERMIJN_DAGEN"])
                    c.data.update(herbeoordeling_gestart_op=herb_start.isoformat(),
                                  beoordelen_voor=due.isoformat())
                    actor = ((None, "systeem") if rng.random() < 0.7
                             else (rng.choice(g["lpa"]), "leerplichtambtenaar"))
                    c.event("start_herbeoordeling", herb_start, "herbeoordeling", actor, {})
            elif state == "geen_vrijstelling":
                reden = "verhuisd" if r < 0.1 else "ingeschreven_op_school"
                self._beeindig(c, self._after(d, 14, 120), reden, g, end)
            if c.stopped:
                break
        c.finish()

    def _trek_in(self, c: _CaseBuilder, ouder: int, end: date) -> None:
        nxt = self._after(c.day, 2, 20)
        if nxt > end:
            c.stopped = True
            return
        reden = "Wij hebben toch een school gevonden."
        c.data.update(reden_intrekking=reden, ingetrokken_op=nxt.isoformat())
        c.event("trek_in", nxt, "ingetrokken", (ouder, "ouder"), {"reden": reden})

    def _beeindig(self, c: _CaseBuilder, day: date, reden: str, g: dict | None, end: date) -> None:
        if day > end:
            c.stopped = True
            return
        toelichting = None
        # Enrolment ends an exemption only when the deskundige judged it no longer needed.
        akkoord = reden == "ingeschreven_op_school"
        c.data.update(reden_beeindiging=reden, toelichting_beeindiging=toelichting,
                      beeindigd_op=day.isoformat(), deskundige_akkoord=akkoord)
        actor = (None, "systeem") if g is None else (self.rng.choice(g["lpa"]), "leerplichtambtenaar")
        c.event("beeindig", day, "beeindigd", actor, {"reden": reden, "toelichting": toelichting,
                                                      "deskundige_akkoord": akkoord})

    def _vraag_advies(self, c: _CaseBuilder, g: dict, child: dict, day: date, end: date) -> None:
        if day > end:
            c.stopped = True
            return
        rng = self.rng
        swv = g["swv"]
        if len(self.swvs) > 1 and rng.random() < 0.1:  # a neighbouring SWV
            swv = self.swvs[(self.swvs.index(swv) + 1) % len(self.swvs)]
        toestemming = rng.random() < 0.7
        door = None
        if toestemming:
            door = ("jongere" if age_on(child["row"]["geboortedatum"], day) >= 16
                    and rng.random() < 0.5 else "ouder")
        # Before 16 the parents decide, from 16 the young person; named also when consent is refused.
        door = "jongere" if age_on(child["row"]["geboortedatum"], day) >= 16 else "ouder"
        samenvatting = "Leerling kan door angstklachten niet naar school; zoekt passend aanbod."
        due = day + timedelta(days=self.settings["ADVIES_TERMIJN_DAGEN"])
        c.swv, c.swv_id, c.toestemming = swv, swv["id"], toestemming
        for key in ("advies", "advies_soort", "mogelijkheden"):
            c.data.pop(key, None)
        c.data.update(toestemming_door=door, samenvatting=samenvatting,
                      advies_gevraagd_op=day.isoformat(), advies_voor=due.isoformat())
        c.event("vraag_advies", day, "advies_gevraagd", (c.deskundige_id, "jeugdarts"),
                {"swv_id": swv["id"], "toestemming": toestemming, "toestemming_door": door,
                 "samenvatting": samenvatting})

    def _geef_verklaring(self, c: _CaseBuilder, day: date, geschikt: bool) -> None:
        rng = self.rng
        verklaringsdatum = day - timedelta(days=rng.randint(0, 20))
        if c.data.get("advies_gevraagd_op"):  # a verklaring follows the advice request
            verklaringsdatum = max(verklaringsdatum, date.fromisoformat(c.data["advies_gevraagd_op"]))
        weging = "Het advies is meegewogen; maatwerk is nu niet haalbaar."
        c.data.update(geschikt=geschikt, weging_advies=weging,
                      verklaringsdatum=verklaringsdatum.isoformat(), niet_behandelend_arts=True)
        payload: dict[str, Any] = {"geschikt": geschikt, "weging_advies": weging,
                                   "verklaringsdatum": verklaringsdatum.isoformat(),
                                   "niet_behandelend_arts": True, "ingangsdatum": None,
                                   "einddatum": None, "herbeoordelingsdatum": None,
                                   "medische_notitie": None}
        if geschikt:
            c.ingangsdatum = c.einddatum = c.herbeoordelingsdatum = None
            c.event("geef_verklaring", day, "geen_vrijstelling", (c.deskundige_id, "jeugdarts"),
                    payload)
            return
        ingang = day + timedelta(days=rng.choice((0, 0, 1, 7, 14)))
        months = rng.choices((None, 3, 6, 12, 24, 36), (25, 10, 20, 25, 12, 8))[0]
        max_months = self.settings["MAX_HERBEOORDELING_MAANDEN"]
        if months is None:
            eind = None
            herb = add_months(ingang, rng.choice((6, max_months)))
        else:
            eind = add_months(ingang, months) - timedelta(days=1)
            herb = add_months(ingang, min(max_months, max(1, months - 1)))
        c.ingangsdatum, c.einddatum, c.herbeoordelingsdatum = ingang, eind, herb
        payload.update(ingangsdatum=ingang.isoformat(), einddatum=eind.isoformat() if eind else None,
                       herbeoordelingsdatum=herb.isoformat())
        c.event("geef_verklaring", day, "vrijgesteld", (c.deskundige_id, "jeugdarts"), payload)

    # -- verzuim

    def _verzuim_case(self, child: dict | None) -> dict:
        rng, end = self.rng, self.peildatum
        day = self._random_day()
        if child is not None and not 5 <= age_on(child["row"]["geboortedatum"], day) <= 17:
            child = None  # not of school age on that day: a new pupil after all
        if child is None:
            g = self._pick_gemeente()
            age = rng.choices(range(5, 18), (2, 2, 3, 3, 4, 4, 5, 9, 12, 14, 15, 14, 13))[0]
            child = self._child(g, self._birth_date(day, age, age), "po" if age < 12 else "vo",
                                parent_share=0.2)
        g = child["g"]
        geboortedatum = child["row"]["geboortedatum"]
        c = self._new_case(verzuim.CASE_TYPE, child)
        c.school_id = child["school_id"]
        signaal = rng.random() < 0.22
        eind = day - timedelta(days=rng.randint(1, 7))
        keer_te_laat = None
        if signaal:
            soort, verzuimsoort, uren = "signaal", None, rng.randint(2, 15)
            start = eind - timedelta(days=rng.randint(7, 27))
            if rng.random() < 0.3:
                keer_te_laat = rng.randint(5, 30)
        else:
            soort = "melding"
            verzuimsoort = rng.choices(verzuim.VERZUIMSOORTEN, (55, 18, 15, 12))[0]
            uren, span = {"16_uur_4_weken": (rng.randint(16, 60), rng.randint(7, 27)),
                          "langdurig_relatief": (rng.randint(60, 400), rng.randint(28, 120)),
                          "luxe": (rng.randint(8, 40), rng.randint(3, 14)),
                          "overig": (rng.randint(2, 30), rng.randint(5, 27))}[verzuimsoort]
            start = eind - timedelta(days=span)
            if verzuimsoort == "overig" and rng.random() < 0.3:
                keer_te_laat = rng.randint(12, 40)
        door = "school" if rng.random() < 0.78 or signaal else (
            "duo_import" if rng.random() < 0.75 else "leerplichtambtenaar")
        situatie = rng.choice(_SITUATIES) if signaal else None
        omschrijving = rng.choice(_OMSCHRIJVINGEN)
        c.data = {"soort": soort, "oorspronkelijke_soort": soort, "verzuimsoort": verzuimsoort,
                  "uren": uren, "keer_te_laat": keer_te_laat, "periode_start": start.isoformat(),
                  "periode_eind": eind.isoformat(), "omschrijving": omschrijving,
                  "verzuimbeleid_situatie": situatie, "ontvangen_op": day.isoformat(),
                  "ingediend_door": door}
        actor = {"school": (child["coordinator"], "school"), "duo_import": (None, "duo_import"),
                 "leerplichtambtenaar": (rng.choice(g["lpa"]), "leerplichtambtenaar")}[door]
        c.event("dien_in", day, "ontvangen", actor, {
            "child_id": child["row"]["id"], "soort": soort, "verzuimsoort": verzuimsoort,
            "uren": uren, "keer_te_laat": keer_te_laat, "periode_start": start.isoformat(),
            "periode_eind": eind.isoformat(), "omschrijving": omschrijving,
            "verzuimbeleid_situatie": situatie})
        escalates = signaal and rng.random() < 0.2

        while c.is_open:
            state, d = c.state, c.day
            r = rng.random()
            lpa = (rng.choice(g["lpa"]), "leerplichtambtenaar")
            if escalates and state in ("ontvangen", "in_onderzoek", "vrijwillige_hulp",
                                       "monitoring") and rng.random() < 0.5:
                escalates = False
                self._escaleer(c, child, self._after(d, 5, 40), end)
            elif state == "ontvangen":
                if r < 0.82:
                    nxt = self._after(d, 1, 8)
                    if nxt > end:
                        break
                    gesprek = self._after(nxt, 4, 15)
                    tijd = f"{rng.randint(9, 16)}:{rng.choice(('00', '15', '30', '45'))}"
                    plaats = "Stadhuis, spreekkamer 2"
                    c.data.update(gesprek_gepland_op=gesprek.isoformat(), gesprek_tijd=tijd,
                                  gesprek_plaats=plaats, onderzoek_gestart_op=nxt.isoformat())
                    c.event("start_onderzoek", nxt, "in_onderzoek", lpa, {
                        "gesprek_gepland_op": gesprek.isoformat(), "gesprek_tijd": tijd,
                        "gesprek_plaats": plaats})
                elif r < 0.91:
                    self._close(c, "neem_ter_kennisgeving_aan", "ter_kennisgeving",
                                self._after(d, 1, 10), lpa, {"reden": "Het verzuim is al opgelost."},
                                end)
                elif r < 0.94 and len(self.gemeenten) > 1:
                    self._draag_over(c, g, self._after(d, 1, 10), lpa, end)
                elif r < 0.97 and door == "school":
                    self._close(c, "trek_in", "ingetrokken", self._after(d, 1, 5),
                                (child["coordinator"], "school"),
                                {"reden": "Per ongeluk gemeld."}, end)
                else:
                    break  # not yet picked up: overdue
            elif state == "in_onderzoek":
                nxt = (date.fromisoformat(c.data["gesprek_gepland_op"])
                       if c.data.get("gesprek_gepland_op") else d)
                nxt = max(nxt, d) + timedelta(days=rng.randint(0, 10))
                if r < 0.86:
                    self._kies_route(c, child, nxt, lpa, end)
                elif r < 0.98:
                    self._sluit_af(c, nxt, lpa, end)
                elif len(self.gemeenten) > 1:
                    self._draag_over(c, g, nxt, lpa, end)
                else:
                    self._sluit_af(c, nxt, lpa, end)
            elif state in verzuim.ROUTES:
                nxt = self._after(d, 25, 100)
                heavier = self._heavier_route(c, child, nxt)
                if state == "halt":
                    if r < 0.2 and heavier == "proces_verbaal":  # Halt ended negatively
                        self._verwijs_door(c, child, "proces_verbaal", nxt, lpa, end)
                    elif r < 0.95:
                        self._start_monitoring(c, nxt, lpa, end)
                    else:
                        self._sluit_af(c, nxt, lpa, end)
                elif r < 0.12 and heavier is not None:
                    self._verwijs_door(c, child, heavier, nxt, lpa, end)
                elif r < 0.78:
                    self._start_monitoring(c, nxt, lpa, end)
                else:
                    self._sluit_af(c, nxt, lpa, end)
            elif state == "monitoring":
                nxt = date.fromisoformat(c.data["monitoren_tot"]) + timedelta(days=rng.randint(0, 14))
                self._sluit_af(c, nxt, lpa, end)
            if c.stopped:
                break
        c.finish()
        return child

    def _close(self, c: _CaseBuilder, event: str, kind: str, day: date, actor: tuple,
               payload: dict, end: date) -> None:
        if day > end:
            c.stopped = True
            return
        extra: dict[str, Any] = {}
        if "reden" in payload:
            extra["reden_afsluiting"] = payload["reden"]
        if "gemeente_id" in payload:
            extra["overgedragen_aan"] = payload["gemeente_id"]
        if "resultaat" in payload:
            extra["resultaat"] = payload["resultaat"]
            extra["toelichting_resultaat"] = payload["toelichting"]
        c.data.update(extra, afsluiting=kind, afgesloten_op=day.isoformat())
        c.event(event, day, "afgesloten", actor, payload)

    def _draag_over(self, c: _CaseBuilder, g: dict, day: date, actor: tuple, end: date) -> None:
        other = self.rng.choice([x for x in self.gemeenten if x is not g])
        self._close(c, "draag_over", "overgedragen", day, actor, {"gemeente_id": other["id"]}, end)

    def _sluit_af(self, c: _CaseBuilder, day: date, actor: tuple, end: date) -> None:
        resultaat = self.rng.choices(verzuim.RESULTATEN, (55, 15, 10, 3, 5, 0, 12))[0]
        toelichting = "Afgesproken met school en ouders." if resultaat == "anders" else None
        self._close(c, "sluit_af", "afgesloten", day, actor,
                    {"resultaat": resultaat, "toelichting": toelichting}, end)

    def _escaleer(self, c: _CaseBuilder, child: dict, day: date, end: date) -> None:
        if day > end:
            c.stopped = True
            return
        rng = self.rng
        eind = day - timedelta(days=rng.randint(1, 5))
        start = eind - timedelta(days=rng.randint(7, 27))
        uren = rng.randint(16, 40)
        keer = c.data.get("keer_te_laat")
        c.data.update(soort="melding", verzuimsoort="16_uur_4_weken", uren=uren, keer_te_laat=keer,
                      periode_start=start.isoformat(), periode_eind=eind.isoformat(),
                      omgezet_op=day.isoformat())
        actor = ((child["coordinator"], "school") if c.data["ingediend_door"] == "school"
                 and rng.random() < 0.6 else (rng.choice(child["g"]["lpa"]), "leerplichtambtenaar"))
        c.event("escaleer_naar_melding", day, "in_onderzoek", actor, {
            "verzuimsoort": "16_uur_4_weken", "uren": uren, "periode_start": start.isoformat(),
            "periode_eind": eind.isoformat(), "keer_te_laat": None})

    def _route_allowed(self, c: _CaseBuilder, child: dict, route: str, day: date) -> bool:
        """verzuim._route_guards, on plain values."""
        if c.data.get("soort") == "signaal":
            return route == "vrijwillige_hulp"
        leeftijd = age_on(child["row"]["geboortedatum"], day)
        if route == "halt":
            return (12 <= leeftijd <= 17
                    and verzuim.halt_binnen_grenzen(leeftijd, c.data.get("uren"),
                                                    c.data.get("keer_te_laat"))
                    and child["row"]["id"] not in self.halt_children)
        return True

    def _heavier_route(self, c: _CaseBuilder, child: dict, day: date) -> str | None:
        if c.data.get("soort") == "signaal":
            return None
        heavier = [r for r in verzuim.ROUTES[verzuim.ROUTES.index(c.state) + 1:]
                   if self._route_allowed(c, child, r, day)]
        return self.rng.choice(heavier) if heavier else None

    def _tegen(self, child: dict, day: date) -> str:
        if age_on(child["row"]["geboortedatum"], day) >= 12 and self.rng.random() < 0.45:
            return "jongere"
        return "ouders"

    def _kies_route(self, c: _CaseBuilder, child: dict, day: date, actor: tuple, end: date) -> None:
        if day > end:
            c.stopped = True
            return
        rng, d = self.rng, c.data
        if d.get("verzuimsoort") == "luxe" and rng.random() < 0.6:
            categorie = "luxe"
        else:
            categorie = rng.choices(verzuim.OORZAAK_CATEGORIEEN, (25, 20, 8, 7, 30, 0, 10))[0]
        flags = {"eerdere_hulp_niet_op_gang": rng.random() < 0.06,
                 "ontwikkeling_in_gevaar": rng.random() < 0.3,
                 "eerdere_routes_mislukt": rng.random() < 0.05,
                 "ouders_werken_niet_mee": categorie == "luxe" and rng.random() < 0.4}
        leeftijd = age_on(child["row"]["geboortedatum"], day)
        halt_eerder = child["row"]["id"] in self.halt_children
        voorstel, reden = verzuim.propose_route(
            soort=d["soort"], oorzaak_categorie=categorie, leeftijd=leeftijd, uren=d.get("uren"),
            keer_te_laat=d.get("keer_te_laat"), halt_eerder=halt_eerder,
            verzuimsoort=d.get("verzuimsoort"), **flags)
        route, motivering = voorstel, None
        if rng.random() < 0.1:
            others = [r for r in verzuim.ROUTES
                      if r != voorstel and self._route_allowed(c, child, r, day)]
            if others:
                route = rng.choice(others)
                motivering = "Na overleg met school en wijkteam past deze route beter."
        toestemming_halt = route == "halt"
        tegen = self._tegen(child, day) if route == "proces_verbaal" else None
        if route == "halt":
            self.halt_children.add(child["row"]["id"])
        gesprek = d.get("gesprek_gepland_op") or day.isoformat()
        opvolgen = day + timedelta(days=self.settings["ROUTE_OPVOLG_DAGEN"])
        afspraken = "Leerling gaat elke dag naar school; over zes weken evalueren we."
        d.update(route=route, oorzaak=_OORZAKEN[categorie], oorzaak_categorie=categorie,
                 gesprek_gevoerd_op=gesprek, voorgestelde_route=voorstel, reden_voorstel=reden,
                 motivering_afwijking=motivering, afspraken=afspraken,
                 toestemming_halt=toestemming_halt, tegen=tegen,
                 routes=[*d.get("routes", []), route], opvolgen_op=opvolgen.isoformat())
        c.event("kies_route", day, route, actor, {
            "route": route, "oorzaak": _OORZAKEN[categorie], "oorzaak_categorie": categorie,
            "gesprek_gevoerd_op": gesprek, "motivering_afwijking": motivering,
            "afspraken": afspraken, "toestemming_halt": toestemming_halt, "tegen": tegen,
            **flags, "opvolgen_op": None},
            details={"voorgestelde_route": voorstel, "gekozen_route": route,
                     "afwijking": route != voorstel, "motivering_afwijking": motivering})

    def _verwijs_door(self, c: _CaseBuilder, child: dict, route: str, day: date, actor: tuple,
                      end: date) -> None:
        if day > end:
            c.stopped = True
            return
        d = c.data
        motivering = ("De Halt-afdoening is niet goed afgerond." if c.state == "halt"
                      else "De afspraken zijn niet nagekomen.")
        tegen = ("jongere" if c.state == "halt" else self._tegen(child, day)) \
            if route == "proces_verbaal" else None
        if route == "halt":
            self.halt_children.add(child["row"]["id"])
        opvolgen = day + timedelta(days=self.settings["ROUTE_OPVOLG_DAGEN"])
        d.update(route=route, motivering_doorverwijzing=motivering,
                 afspraken=d.get("afspraken", ""), toestemming_halt=route == "halt", tegen=tegen,
                 routes=[*d.get("routes", []), route], opvolgen_op=opvolgen.isoformat())
        c.event("verwijs_door", day, route, actor, {
            "route": route, "motivering": motivering, "afspraken": "",
            "toestemming_halt": route == "halt", "tegen": tegen, "opvolgen_op": None},
            details={"gekozen_route": route})

    def _start_monitoring(self, c: _CaseBuilder, day: date, actor: tuple, end: date) -> None:
        if day > end:
            c.stopped = True
            return
        uitkomst = _UITKOMST[c.state]
        tot = self._after(day, 42, 120)
        c.data.update(uitkomst=uitkomst, monitoren_tot=tot.isoformat())
        c.event("start_monitoring", day, "monitoring", actor,
                {"uitkomst": uitkomst, "monitoren_tot": tot.isoformat()})

    # ------------------------------------------------------------ finishing

    def sequences(self) -> None:
        """PostgreSQL: move each id sequence past the ids given here."""
        if self.dialect != "postgresql":
            return
        for table in self.next_id:
            name = table.name
            self.conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT COALESCE(max(id), 1) FROM {name}))"))

    def analyze(self) -> None:
        """Fresh planner statistics: a bulk load changes the tables' shape at once."""
        self.conn.execute(text("ANALYZE"))

    def vacuum(self) -> None:
        """PostgreSQL, after the commit: VACUUM sets the visibility map (index-only scans) and
        ANALYZE the statistics. It cannot run in a transaction: its own autocommit connection."""
        tables = ", ".join(t.name for t in self.next_id)
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                f"VACUUM (ANALYZE) {tables}")


class _CaseBuilder:
    """One case walking its workflow: state, data and columns as the events leave them, with
    its audit chain and letter records."""

    def __init__(self, gen: _Generator, case_type: str, case_id: int, child: dict) -> None:
        self.gen, self.type, self.id, self.child = gen, case_type, case_id, child
        self.workflow = vrijstelling.WORKFLOW if case_type == vrijstelling.CASE_TYPE else verzuim.WORKFLOW
        self.state: str | None = None
        self.data: dict = {}
        self.deskundige_id = self.swv_id = self.school_id = self.toestemming = None
        self.swv: dict | None = None
        self.ingangsdatum = self.einddatum = self.herbeoordelingsdatum = None
        self.day: date | None = None
        self.created_at: datetime | None = None
        self.at: datetime | None = None
        self.seq = 0
        self.prev_hash = GENESIS
        self.stopped = False
        prefix = self.workflow.reference_prefix
        self._reference_prefix = f"{REFERENCE_PREFIX}{prefix}-"

    @property
    def is_open(self) -> bool:
        return self.state not in self.workflow.terminal

    @property
    def reference(self) -> str:
        return f"{self._reference_prefix}{self.created_at.year}-{self.id:07d}"

    def event(self, name: str, day: date, to_state: str, actor: tuple[int | None, str],
              payload: dict, details: dict | None = None) -> None:
        gen = self.gen
        at = gen._at(day)
        if self.at is not None and at <= self.at:  # two events on one day: keep their order
            at = self.at + timedelta(minutes=gen.rng.randint(1, 90))
        if self.created_at is None:
            self.created_at = at
        from_state = self.state
        self.state, self.day, self.at = to_state, at.date(), at
        self.seq += 1
        row = _AuditRow()
        row.case_id, row.seq, row.event, row.from_state, row.to_state = (
            self.id, self.seq, name, from_state, to_state)
        row.actor_id, row.actor_role, row.at = actor[0], actor[1], at
        row.payload_digest = gen.sealer.payload_digest(payload)
        row.prev_hash, row.details = self.prev_hash, details
        row_hash_value = row_hash(row)
        key_id = gen.sealer.key_id
        gen._add(AuditEvent.__table__, {
            "id": gen._id(AuditEvent.__table__), "case_id": self.id, "seq": self.seq,
            "event": name, "from_state": from_state, "to_state": to_state, "actor_id": actor[0],
            "actor_role": actor[1], "at": at, "payload_digest": row.payload_digest,
            "details": details, "prev_hash": self.prev_hash, "hash": row_hash_value,
            "key_id": key_id, "mac": gen.sealer.row_mac(key_id, row_hash_value)})
        gen.report.audit_rows += 1
        self.prev_hash = row_hash_value
        self._letters(self.workflow.events[name], at)

    def _letters(self, spec, at: datetime) -> None:
        gen = self.gen
        stub = None
        for letter_spec in spec.letters:
            if letter_spec.when is not None:
                stub = stub or _Stub(self.state, self.data)
                if not letter_spec.when(stub):
                    continue
            for role, user_id, org_id in self._recipients(letter_spec.recipient, at.date()):
                gen._add(Letter.__table__, {
                    "id": gen._id(Letter.__table__), "case_id": self.id, "audit_seq": self.seq,
                    "kind": letter_spec.kind, "recipient_role": role,
                    "recipient_user_id": user_id, "recipient_org_id": org_id, "status": "failed",
                    "attempts": SYNTHETIC_ATTEMPTS, "last_error": SYNTHETIC_ERROR,
                    "context": {"synthetisch": True, "kenmerk": self.reference},
                    "created_at": at})
                gen.report.letters += 1

    def _recipients(self, recipient: str, day: date) -> list[tuple[str, int | None, int | None]]:
        """services.letters._recipients, on plain values: (role, user id, organisation id)."""
        child = self.child
        if recipient == "ouder":
            return [("ouder", p, None) for p in child["parents"]] or [("ouder", None, None)]
        if recipient == "leerling":
            age = age_on(child["row"]["geboortedatum"], day)
            return [("leerling", None, None)] if 12 <= age < 18 else []
        if recipient == "school":
            return [("school", None, self.school_id)] if self.school_id else []
        if recipient == "nieuwe_gemeente":
            return [("gemeente", None, self.data["overgedragen_aan"])]
        if recipient == "deskundige":
            if self.deskundige_id is None:
                return []
            jgz = child["g"]["jgz"]["id"]
            return [("deskundige", self.deskundige_id, jgz)]
        if recipient == "swv":
            return [("swv", None, self.swv_id)] if self.swv_id else []
        raise ValueError(recipient)

    def finish(self) -> None:
        gen = self.gen
        stub = _Stub(self.state, self.data, self.einddatum, self.herbeoordelingsdatum)
        due = min((d for _, d in self.workflow.deadlines(stub, gen.settings)), default=None)
        gen._add(Case.__table__, {
            "id": self.id, "type": self.type, "reference": self.reference, "state": self.state,
            "version": self.seq, "is_open": self.is_open, "child_id": self.child["row"]["id"],
            # What the search triggers would set (they then have nothing to do on SQLite).
            "kind_naam": f"{self.child['row']['voornaam']} {self.child['row']['achternaam']}",
            "gemeente_id": self.child["g"]["id"], "created_at": self.created_at,
            "updated_at": self.at, "due_on": due, "deskundige_id": self.deskundige_id,
            "swv_id": self.swv_id, "school_id": self.school_id, "toestemming": self.toestemming,
            "ingangsdatum": self.ingangsdatum, "einddatum": self.einddatum,
            "herbeoordelingsdatum": self.herbeoordelingsdatum, "data": self.data,
            **report_facts(self.data)})
        key_id = gen.sealer.key_id
        mac = gen.sealer.case_mac(key_id, self.id, self.seq, self.prev_hash)
        gen._add(AuditSeal.__table__, {
            "case_id": self.id, "n_rows": self.seq, "n_cases": 0, "head": self.prev_hash,
            "key_id": key_id, "mac": mac, "updated_at": self.at})
        sealed = gen._sealed
        sealed[0], sealed[1], sealed[2] = sealed[0] + self.seq, sealed[1] + 1, add_mac(sealed[2], mac)
        gen.report.cases += 1
        gen.report.states[f"{self.type}:{self.state}"] = (
            gen.report.states.get(f"{self.type}:{self.state}", 0) + 1)


# ---------------------------------------------------------------- entry points


def real_cases_present() -> bool:
    """Whether the database holds any case that this generator did not make."""
    q = select(Case.id).where(or_(Case.reference.is_(None),
                                  Case.reference.not_like(f"{REFERENCE_PREFIX}%"))).limit(1)
    return db.session.scalar(q) is not None


def default_gemeenten(n_cases: int) -> int:
    """About 50,000 cases per gemeente, at least 2 (a transfer needs another gemeente)."""
    return max(2, min(342, -(-n_cases // 50_000)))


def generate(n_cases: int, n_gemeenten: int | None = None, seed: int = 1, *,
             peildatum: date | None = None, force: bool = False, analyze: bool = True,
             commit: Callable[[], None] | None = None,
             progress: Callable[[int, int], None] | None = None) -> GenerateReport:
    """Generate synthetic data into the current database.

    commit is called after every batch (the CLI commits there; None: the caller's one
    transaction holds everything). analyze: fresh planner statistics at the end (with commit, on
    PostgreSQL: VACUUM (ANALYZE)). Raises RealDataPresent when the database holds real cases and
    force is not set.
    """
    if n_cases < 1:
        raise ValueError("n_cases must be at least 1")
    if not force and real_cases_present():
        raise RealDataPresent(
            "Deze database bevat echte zaken (zonder kenmerk SYN-…). Synthetische gegevens horen "
            "daar niet tussen; gebruik een lege database, of --force als u het echt wilt.")
    started = time.perf_counter()
    peildatum = peildatum or date.today()
    gen = _Generator(n_cases, n_gemeenten or default_gemeenten(n_cases), seed, peildatum,
                     dict(current_app.config))
    gen.organisations()
    if commit is not None:
        commit()
    gen.cases(commit, progress)
    gen.sequences()
    if commit is None:
        if analyze:
            gen.analyze()
    else:
        commit()
        if analyze and gen.dialect == "postgresql":
            gen.vacuum()
        elif analyze:
            gen.analyze()
            commit()
    gen.report.seconds = time.perf_counter() - started
    return gen.report


def register_synthetic_cli(app: Flask) -> None:
    @app.cli.command("generate", help="Maak synthetische gemeenten, scholen, kinderen en zaken om het product op grote schaal te proberen; weigert een database met echte zaken (zonder --force).")
    @click.option("--cases", "n_cases", required=True, type=click.IntRange(1, 20_000_000),
                  help="Aantal zaken (ongeveer evenveel kinderen).")
    @click.option("--gemeenten", "n_gemeenten", type=click.IntRange(1, 999), default=None,
                  help="Aantal gemeenten (standaard: één per 50.000 zaken, minstens 2).")
    @click.option("--seed", default=1, show_default=True, type=int,
                  help="Zelfde seed, zelfde gegevens.")
    @click.option("--peildatum", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="JJJJ-MM-DD: 'vandaag' voor de gegevens (standaard vandaag).")
    @click.option("--force", is_flag=True,
                  help="Ook genereren als de database echte (niet-synthetische) zaken bevat.")
    def generate_command(n_cases, n_gemeenten, seed, peildatum, force):
        """Generate synthetic gemeenten, schools, children and cases (for trying the product at size)."""
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if done == total or done % 100_000 == 0:
                click.echo(f"{done} van {total} zaken ({time.perf_counter() - started:.0f} s)")

        day = peildatum.date() if peildatum else None
        if day is not None and day > date.today():
            raise click.BadParameter("De peildatum kan niet in de toekomst liggen.",
                                     param_hint="--peildatum")
        try:
            report = generate(n_cases, n_gemeenten, seed, peildatum=day, force=force,
                              commit=db.session.commit, progress=progress)
        except RealDataPresent as exc:
            db.session.rollback()
            click.echo(str(exc), err=True)
            raise SystemExit(1) from None
        click.echo(report.summary())

