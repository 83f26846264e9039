"""Every case can reach its end, and no event in any state crashes.

For each workflow the test walks the state graph the way users do: from a new case it fires
every event that someone may fire, with a valid payload, and follows each new (state, context)
it reaches. In every node it then
- fires EVERY event of the workflow through the API, as a user with the event's role and as a
  user without it, and accepts only 200/403/409/422 — never a 5xx, an exception, or a database
  error dressed up as "someone else changed this case" (a 409 `conflict`: nobody else acts here);
- checks that a non-terminal node has a way forward for the leerplichtambtenaar (an event that
  works and leaves the state) or for the scheduler (a time-driven event that applies).

Each probe runs inside a SAVEPOINT of the test's connection that is rolled back afterwards, so
every event is tried on the same case as it stood.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

import factories as fv5a
import factories_verzuim as fvz
from casework import policy
from casework.extensions import db
from casework.models import Case, User
from casework.services.cases import commit, fire, open_case
from casework.services.errors import DomainError
from casework.workflows import get_workflow
from casework.workflows.base import SYSTEM_ROLE
from casework.workflows.verzuim import ROUTES
from conftest import api_token

ALLOWED = {200, 403, 409, 422}
LPA = "leerplichtambtenaar"


@dataclass
class Node:
    signature: tuple
    path: tuple[str, ...]  # "event" or "event:variant" steps after the opening event
    case_id: int | None = None
    notes: list[str] = field(default_factory=list)


@contextmanager
def probe():
    """Run a request (or a service call) and undo everything it wrote.

    The session's own transaction is a SAVEPOINT of the test's connection (conftest); the probe
    opens one more underneath it, rolls that back, and lets the session reload what it holds.
    """
    connection = db.session.get_bind()
    db.session.commit()
    savepoint = connection.begin_nested()
    try:
        yield
    finally:
        db.session.rollback()
        savepoint.rollback()
        db.session.expire_all()


# ------------------------------------------------------------------ per workflow

@dataclass
class Flow:
    case_type: str
    open_case: Callable[[], Case]  # a new case, committed
    users: Callable[[Case], list[User]]  # everyone who may see it (as API clients)
    variants: Callable[[str, Case], list[str]]  # payload variants of an event on this case
    payload: Callable[[Case, str], dict]  # valid payload for "event[:variant]"
    signature: Callable[[Case], tuple]


def _vrijstelling_flow(demo) -> Flow:
    built = iter(range(1, 1000))

    def open_new() -> Case:
        # One open vrijstelling case per child: every node gets a child of its own (Sam's age).
        n = next(built)
        child = fv5a.make_child(demo, demo.sam.geboortedatum, f"Graaf{n}", f"{700000000 + n:09d}")
        case = open_case(demo.ouder1, "vrijstelling_5a", fv5a.dien_in_data(child))
        commit()
        return case

    def users(case: Case) -> list[User]:
        candidates = [demo.lpa, demo.ouder1, demo.arts, demo.swv, demo.swv_naburig]
        return [u for u in candidates if policy.can_see_case(u, case)]

    def variants(event: str, case: Case) -> list[str]:
        if event == "geef_verklaring":
            return ["geef_verklaring:niet_geschikt", "geef_verklaring:geschikt"]
        if event == "vraag_advies":
            return ["vraag_advies:zonder_toestemming", "vraag_advies:met_toestemming"]
        return [event]

    def payload(case: Case, step: str) -> dict:
        event, _, variant = step.partition(":")
        return fv5a.event_data(demo, case, event, toestemming=variant == "met_toestemming",
                               geschikt=variant == "geschikt")

    def signature(case: Case) -> tuple:
        d = case.data or {}
        return (case.state, case.ingangsdatum is not None, bool(d.get("herbeoordeling_gestart_op")),
                bool(case.toestemming))

    return Flow("vrijstelling_5a", open_new, users, variants, payload, signature)


def _verzuim_flow(demo, soort: str) -> Flow:
    pupil = fvz.make_pupil_aged(demo, 14, voornaam="Graaf")

    def open_new() -> Case:
        return fvz.open_verzuim(demo, pupil, soort, by=demo.school)

    def users(case: Case) -> list[User]:
        candidates = [demo.lpa, demo.school, demo.ouder1]
        return [u for u in candidates if policy.can_see_case(u, case)]

    def variants(event: str, case: Case) -> list[str]:
        if event in ("kies_route", "verwijs_door", "hervat_route"):
            return [f"{event}:{route}" for route in ROUTES]
        return [event]

    def payload(case: Case, step: str) -> dict:
        return fvz.event_data(demo, case, step)

    def signature(case: Case) -> tuple:
        d = case.data or {}
        return (case.state, d.get("soort"), d.get("oorspronkelijke_soort"))

    return Flow("verzuim", open_new, users, variants, payload, signature)


# ------------------------------------------------------------------ the walk

class Walker:
    def __init__(self, client, flow: Flow):
        self.client, self.flow = client, flow
        self.wf = get_workflow(flow.case_type)
        self.tokens: dict[int, dict] = {}
        self.failures: list[str] = []

    def headers(self, user: User) -> dict:
        if user.id not in self.tokens:
            self.tokens[user.id] = api_token(self.client, user.email)
        return self.tokens[user.id]

    def build(self, path: tuple[str, ...]) -> Case:
        """The case of a node, reached for real by replaying its path."""
        case = self.flow.open_case()
        for step in path:
            event = step.partition(":")[0]
            actor = self.actor_for(case, self.wf.events[event])
            fire(case, event, actor=actor, data=self.flow.payload(case, step))
            commit()
        return case

    def actor_for(self, case: Case, spec) -> User | None:
        """A user who may fire this event on this case; None: only the scheduler may."""
        for user in self.flow.users(case):
            if policy.may_fire(user, case, spec):
                return user
        return None

    def outsider_for(self, case: Case, spec) -> User | None:
        """A user who sees the case but whose role may not fire this event."""
        for user in self.flow.users(case):
            if not policy.may_fire(user, case, spec):
                return user
        return None

    def attempt(self, case_id: int, step: str, user: User | None) -> tuple[int, dict, tuple | None]:
        """Fire one event in a probe: (status, body, signature of the case afterwards)."""
        event = step.partition(":")[0]
        headers = self.headers(user) if user is not None else None  # a token outside the probe
        with probe():
            case = db.session.get(Case, case_id)
            data = self.flow.payload(case, step)
            if user is None:  # the scheduler
                try:
                    fire(case, event, actor=None, data=data)
                    commit()
                    status, body = 200, {}
                except DomainError as exc:
                    status, body = exc.status, {"error": exc.code, "message": exc.message}
            else:
                # The id this user knows the case by (an SWV's later round has its own).
                known_as = policy.public_case_id(user, case)
                response = self.client.post(f"/api/v1/cases/{known_as}/events/{event}", json=data,
                                            headers=headers)
                status, body = response.status_code, response.get_json(silent=True) or {}
            after = None
            if status == 200:
                db.session.expire_all()
                after = self.flow.signature(db.session.get(Case, case_id))
            return status, body, after

    def check(self, node: Node, step: str, user: User | None, status: int, body: dict) -> None:
        who = user.role if user else SYSTEM_ROLE
        where = f"{node.signature} via {node.path or ('dien_in',)}"
        if status not in ALLOWED:
            self.failures.append(f"{step} as {who} in {where}: HTTP {status} {body}")
        elif status == 409 and body.get("error") == "conflict":
            self.failures.append(f"{step} as {who} in {where}: a database error shown as a "
                                 f"conflict: {body.get('message')}")
        elif status in (403, 409, 422) and not body.get("message"):
            self.failures.append(f"{step} as {who} in {where}: HTTP {status} without a message")

    def walk(self) -> dict[tuple, Node]:
        start = self.flow.open_case()
        nodes = {self.flow.signature(start): Node(self.flow.signature(start), (), start.id)}
        queue = list(nodes.values())
        while queue:
            node = queue.pop(0)
            if node.case_id is None:
                node.case_id = self.build(node.path).id
                db.session.expire_all()
            case = db.session.get(Case, node.case_id)
            state = case.state
            moves_on = False
            for spec in self.wf.events.values():
                if spec.name == self.wf.open_event:
                    continue
                for step in self.flow.variants(spec.name, db.session.get(Case, node.case_id)):
                    case = db.session.get(Case, node.case_id)
                    actor = self.actor_for(case, spec)
                    scheduler = actor is None and SYSTEM_ROLE in spec.roles
                    if actor is not None or scheduler:
                        status, body, after = self.attempt(node.case_id, step, actor)
                        if os.environ.get("CASEWORK_GRAPH_DEBUG"):
                            print(node.signature, step, actor.role if actor else None, status,
                                  body.get("message"), after)
                        self.check(node, step, actor, status, body)
                        if status == 200 and after is not None:
                            if after not in nodes:
                                nodes[after] = Node(after, (*node.path, step))
                                queue.append(nodes[after])
                            leaves = after[0] != state
                            if leaves and (actor is None or actor.role == LPA):
                                moves_on = True
                    case = db.session.get(Case, node.case_id)
                    outsider = self.outsider_for(case, spec)
                    if outsider is not None:
                        status, body, _ = self.attempt(node.case_id, step, outsider)
                        self.check(node, step, outsider, status, body)
                        if status == 200:
                            self.failures.append(f"{step} as {outsider.role} (not its role) "
                                                 f"worked in {node.signature}")
            case = db.session.get(Case, node.case_id)
            if state not in self.wf.terminal and not moves_on:
                # The scheduler moves on when its time comes: a time-driven event that applies.
                timed = [s.name for s in self.wf.events_from(state)
                         if SYSTEM_ROLE in s.roles and s.dest != state
                         and (s.applies is None or s.applies(case))]
                if not timed:
                    self.failures.append(
                        f"dead end: in {node.signature} (via {node.path or ('dien_in',)}) neither "
                        "the leerplichtambtenaar nor the scheduler can move the case on")
        return nodes


def _walk(client, flow: Flow) -> tuple[dict, list[str]]:
    walker = Walker(client, flow)
    nodes = walker.walk()
    return nodes, walker.failures


def test_vrijstelling_graph(client, demo):
    nodes, failures = _walk(client, _vrijstelling_flow(demo))
    reached = {sig[0] for sig in nodes}
    assert not failures, "\n".join(failures)
    assert reached == set(get_workflow("vrijstelling_5a").states), reached


@pytest.mark.parametrize("soort", ["melding", "signaal"])
def test_verzuim_graph(client, demo, soort):
    nodes, failures = _walk(client, _verzuim_flow(demo, soort))
    assert not failures, "\n".join(failures)
    reached = {sig[0] for sig in nodes}
    expected = set(get_workflow("verzuim").states)
    if soort == "signaal":
        # A signaal takes the heavier routes only after it became a melding; it gets there by
        # escaleer_naar_melding, which this walk follows too.
        assert {"halt", "proces_verbaal"} <= reached, reached
    assert reached == expected, reached
