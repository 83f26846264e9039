"""The engine every case type shares: events as data, one static state machine per type."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict
from transitions import Machine

# Pseudo-state before the opening event; never stored (the audit row says from_state = None).
NEW = "nieuw"
SYSTEM_ROLE = "systeem"


class Payload(BaseModel):
    """Base of every event payload: unknown keys are ignored, whitespace is trimmed."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class NoPayload(Payload):
    pass


@dataclass
class GuardContext:
    case: Any
    payload: BaseModel
    actor: Any
    today: date
    settings: dict


# A guard returns {field: Dutch message} for what is wrong, or nothing when it holds.
Guard = Callable[[GuardContext], dict[str, str] | None]


@dataclass(frozen=True)
class LetterSpec:
    kind: str
    recipient: str  # "ouder", "deskundige", "swv", "school", ...
    when: Callable[[Any], bool] | None = None  # produced only when this holds for the case


@dataclass(frozen=True)
class EventSpec:
    name: str
    label: str  # Dutch button text
    sources: tuple[str, ...]
    dest: str | Callable[[GuardContext], str]
    roles: frozenset[str]
    payload: type[BaseModel] = NoPayload
    guards: tuple[Guard, ...] = ()
    letters: tuple[LetterSpec, ...] = ()
    apply: Callable[[GuardContext], None] | None = None
    dests: tuple[str, ...] = ()  # every possible destination when dest is chosen at run time
    # Decision facts kept in the audit row itself (e.g. route proposal and choice); no personal data.
    audit_details: Callable[[GuardContext], dict] | None = None
    # Offered only when this holds for the case (e.g. only a signaal can become a melding).
    applies: Callable[[Any], bool] | None = None
    # What the user reads when the event exists in this state but does not apply to the case.
    not_applicable: str | None = None

    def destinations(self) -> tuple[str, ...]:
        return (self.dest,) if isinstance(self.dest, str) else self.dests


@dataclass
class Workflow:
    case_type: str
    label: str
    states: dict[str, str]  # state -> Dutch label
    terminal: frozenset[str]
    events: dict[str, EventSpec]
    open_event: str
    deadlines: Callable[[Any, dict], list[tuple[str, date]]]
    reference_prefix: str
    letter_facts: Callable[[str, Any, dict], dict] | None = None
    one_open_case_per_child: bool = True
    machine: Machine = field(init=False)

    def __post_init__(self) -> None:
        transitions = []
        for spec in self.events.values():
            for source in spec.sources:
                for dest in spec.destinations():
                    transitions.append({
                        "trigger": spec.name,
                        "source": source,
                        "dest": dest,
                        # With several destinations the chosen one is the one whose condition holds.
                        "conditions": [_dest_is(dest)] if len(spec.destinations()) > 1 else [],
                    })
        self.machine = Machine(
            model=None,
            states=[NEW, *self.states],
            transitions=transitions,
            initial=NEW,
            auto_transitions=False,
            send_event=True,
        )

    def events_from(self, state: str) -> list[EventSpec]:
        return [e for e in self.events.values() if state in e.sources]

    def state_label(self, state: str) -> str:
        return self.states.get(state, state)


def _dest_is(dest: str) -> Callable:
    def condition(event_data) -> bool:
        return event_data.kwargs["chosen_dest"] == dest

    return condition


def add_months(day: date, months: int) -> date:
    """Same day n months later, clipped to the month's last day (31 jan + 1 month = 28/29 feb)."""
    import calendar

    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def age_on(geboortedatum: date, day: date) -> int:
    """Age in whole years on a day; a birthday counts from the day itself (29 feb: from 1 march)."""
    years = day.year - geboortedatum.year
    if (day.month, day.day) < (geboortedatum.month, geboortedatum.day):
        years -= 1
    return years
