"""Dutch date formatting for letters and the web UI (Jinja filters `datum`, `datum_tijd`)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

__all__ = ["MAANDEN", "TIJDZONE", "format_datum", "format_datum_tijd"]

MAANDEN = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)

# Everything is stored in UTC; people read Dutch local time.
TIJDZONE = ZoneInfo("Europe/Amsterdam")


def _lokaal(dt: datetime) -> datetime:
    # Naive datetimes are treated as UTC: the database stores UTC timestamps without tzinfo.
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(TIJDZONE)


def _parse(value: date | datetime | str) -> date | datetime:
    if isinstance(value, (date, datetime)):
        return value
    if isinstance(value, str):
        tekst = value.strip()
        if len(tekst) == 10:
            return date.fromisoformat(tekst)
        return datetime.fromisoformat(tekst)
    raise TypeError(f"geen datum: {value!r}")


def format_datum(value: date | datetime | str | None) -> str:
    """`date(2026, 11, 22)` or `"2026-11-22"` → `"22 november 2026"`; None → ``""``.

    A datetime is first converted to Amsterdam time, so a UTC timestamp just before
    midnight shows the Dutch calendar day.
    """
    if value is None or value == "":
        return ""
    d = _parse(value)
    if isinstance(d, datetime):
        d = _lokaal(d).date()
    return f"{d.day} {MAANDEN[d.month - 1]} {d.year}"


def format_datum_tijd(value: datetime | str | None) -> str:
    """UTC (or naive = UTC) datetime → `"22 november 2026, 14:05"` in Amsterdam time."""
    if value is None or value == "":
        return ""
    dt = _parse(value)
    if not isinstance(dt, datetime):
        raise TypeError(f"datum_tijd verwacht een datetime, kreeg {value!r}")
    lokaal = _lokaal(dt)
    return f"{format_datum(lokaal.date())}, {lokaal:%H:%M}"


def format_getal(value: int) -> str:
    """A whole number the Dutch way: 10.000."""
    return f"{value:,}".replace(",", ".")
