"""Shared extension objects, created without an app (init_app binds them)."""
from __future__ import annotations

from flask_login import LoginManager
from flask_wtf import CSRFProtect
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import scoped_session, sessionmaker

login_manager = LoginManager()
csrf = CSRFProtect()


class Database:
    """The engine and the request-scoped session; the session is committed once per request."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session = scoped_session(sessionmaker(expire_on_commit=False))

    def init_app(self, app) -> None:
        url = app.config["DATABASE_URL"]
        kwargs: dict = {"future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 15, "check_same_thread": False}
        else:
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=10)
        self.engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        self.session.configure(bind=self.engine)
        app.extensions["casework_db"] = self

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
            new = RedisHuey("casework", url=app.config["REDIS_URL"])
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
