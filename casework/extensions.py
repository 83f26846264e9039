"""Shared extension objects, created without an app (init_app binds them)."""
from __future__ import annotations

import threading

from flask import current_app
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.exceptions import ConfigurationError
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker

login_manager = LoginManager()
csrf = CSRFProtect()


class _AppDatabase:
    """One app's engine and session factory (several apps may live in one process, e.g. tests)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)


def _scope() -> tuple[int | None, int]:
    try:
        app_id = id(current_app._get_current_object())
    except RuntimeError:
        app_id = None
    return app_id, threading.get_ident()


class Database:
    """The current app's engine and a session per (app, thread); committed once per request."""

    def __init__(self) -> None:
        self.session = scoped_session(self._new_session, scopefunc=_scope)

    @staticmethod
    def state(app=None) -> _AppDatabase:
        return (app or current_app).extensions["casework_db"]

    def _new_session(self) -> Session:
        return self.state().sessionmaker()

    @property
    def engine(self) -> Engine:
        return self.state().engine

    def init_app(self, app) -> None:
        url = app.config["DATABASE_URL"]
        kwargs: dict = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 15, "check_same_thread": False}
        else:
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=10)
        engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        app.extensions["casework_db"] = _AppDatabase(engine)

        @app.teardown_appcontext
        def _remove_session(exc):  # noqa: ARG001
            self.session.remove()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # SQLAlchemy emits BEGIN itself (below), so savepoints and transactional DDL behave.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=15000")
    cur.close()


def _sqlite_begin(conn) -> None:
    # IMMEDIATE takes the write lock up front: concurrent writers wait (busy_timeout) instead of
    # failing when a read transaction tries to become a write transaction on a stale snapshot.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


db = Database()

_TX_CACHES = "casework_tx_caches"


def transaction_cache(name: str) -> dict:
    """A dict that lives as long as the session's current transaction: what a request read once
    (settings, a case the policy let through) and may reuse until the transaction commits, rolls
    back or a savepoint ends. A flush does not end it."""
    return db.session.info.setdefault(_TX_CACHES, {}).setdefault(name, {})


@event.listens_for(Session, "after_transaction_end")
def _forget_transaction_caches(session: Session, transaction) -> None:
    # A flush runs in a subtransaction of its own: neither the outermost one nor a savepoint.
    if transaction.parent is None or transaction.nested:
        session.info.pop(_TX_CACHES, None)


class Queue:
    """Huey holder: the task decorator needs an instance at import time, storage is set by init_app."""

    def __init__(self) -> None:
        self.huey: Huey = MemoryHuey("casework", immediate=False)
        self.app = None

    def init_app(self, app) -> None:
        backend = app.config["QUEUE_BACKEND"]
        if backend == "sqlite":
            path = app.config["QUEUE_PATH"] or f"{app.instance_path}/queue.db"
            new = SqliteHuey("casework", filename=path)
        elif backend == "redis":
            try:
                new = RedisHuey("casework", url=app.config["REDIS_URL"])
            except ConfigurationError as exc:  # the redis client is an extra
                raise RuntimeError('CASEWORK_QUEUE_BACKEND=redis heeft de Redis-client nodig: '
                                   'pip install "casework[redis]".') from exc
        elif backend == "memory":
            new = MemoryHuey("casework")
        else:
            raise RuntimeError(f"Onbekende CASEWORK_QUEUE_BACKEND: {backend!r}")
        # Swap storage in place so tasks registered on the module-level instance keep working.
        self.huey.storage = new.storage
        self.huey.immediate = bool(app.config.get("QUEUE_IMMEDIATE"))
        self.app = app
        app.extensions["casework_queue"] = self


queue = Queue()
