"""A clock for the sign-in delays: tests move time on instead of sleeping."""
from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    """casework.auth's clock; each reading moves on one millisecond, `advance` moves it further."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        self.current += timedelta(milliseconds=1)
        return self.current

    def advance(self, **delta) -> None:
        self.current += timedelta(**delta)


def install_clock(monkeypatch) -> FakeClock:
    from casework import auth
    from casework.models import utcnow

    clock = FakeClock(utcnow())
    monkeypatch.setattr(auth, "utcnow", clock)
    return clock
