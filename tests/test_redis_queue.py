"""The letter queue on a real Redis server (CASEWORK_QUEUE_BACKEND=redis), stopped and started
again under a running app: /healthz says 503 while Redis is down and 200 when it is back, a
transition during the outage still commits, and after a restart that lost the queue every letter
is rendered exactly once. The test command installs Debian's redis-server."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from casework.extensions import db, queue
from casework.models import Letter
from casework.services.cases import commit, fire, open_case
from casework.services.letters import sweep_letters
from factories import demo_namespace, dien_in_data, event_actor, event_data, own_app

pytestmark = [pytest.mark.no_transaction]

redis = pytest.importorskip("redis", reason="the Redis client comes with the test extras")
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A throw-away redis-server on loopback, without persistence: a restart loses the queue."""

    def __init__(self, tmp_path) -> None:
        self.port, self.dir, self.proc = _free_port(), tmp_path, None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:  # wait until it answers (bounded)
            try:
                client.ping()
                return
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.02)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed (the README's test command installs it)")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        if server.proc.poll() is None:
            server.stop()


@pytest.fixture
def redis_app(tmp_path, redis_server):
    from conftest import PG_URL, fresh_postgres_database_url

    url = fresh_postgres_database_url("casework_redis_queue") if PG_URL else None
    with own_app(tmp_path, url, QUEUE_BACKEND="redis", QUEUE_IMMEDIATE=False,
                 REDIS_URL=f"redis://127.0.0.1:{redis_server.port}/0") as app:
        yield app


def _drain() -> int:
    """What the worker does: take each task off the queue and run it."""
    done = 0
    while (task := queue.huey.dequeue()) is not None:
        queue.huey.execute(task)
        done += 1
    return done


def test_healthz_follows_redis_and_no_letter_is_lost_or_rendered_twice(redis_app, redis_server):
    client = redis_app.test_client()
    with redis_app.app_context():
        demo = demo_namespace()
        assert client.get("/healthz").status_code == 200

        first = open_case(demo.ouder1, "vrijstelling_5a", dien_in_data(demo.sam))
        commit()
        assert queue.huey.pending_count() >= 1  # the letters are on the Redis queue

        redis_server.stop()
        down = client.get("/healthz")
        assert down.status_code == 503 and down.get_json() == {"status": "error", "db": "ok", "queue": "error"}
        # The LPA goes on working: the step commits, its letters wait in the database.
        fire(first, "neem_in_behandeling", actor=event_actor(demo, first, "neem_in_behandeling"),
             data=event_data(demo, first, "neem_in_behandeling"))
        commit()
        assert first.state != "kennisgeving_ontvangen"

        redis_server.start()  # an empty Redis: what it held is gone
        assert client.get("/healthz").status_code == 200
        assert queue.huey.pending_count() == 0
        letters = db.session.query(Letter).filter_by(case_id=first.id).all()
        assert len(letters) >= 2 and all(x.status == "pending" for x in letters)

        swept = sweep_letters(older_than_seconds=0)
        assert sorted(swept) == sorted(x.id for x in letters)
        assert _drain() == len(letters)
        assert sweep_letters(older_than_seconds=0) == [] and _drain() == 0  # nothing queued twice
        db.session.expire_all()
        for letter in db.session.query(Letter).filter_by(case_id=first.id):
            assert (letter.status, letter.attempts) == ("rendered", 1), letter.kind
            assert letter.pdf.startswith(b"%PDF")
