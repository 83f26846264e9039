"""Forwarded headers are trusted only when CASEWORK_PROXY_COUNT says proxies stand in front."""
from flask import request, url_for

from casework import create_app
from config import TestConfig

FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": "leerplicht.example.nl"}


def _seen(tmp_path, **overrides):
    cfg = TestConfig.from_env()
    cfg.update(DATABASE_URL=f"sqlite:///{tmp_path}/unused.db", QUEUE_BACKEND="memory", **overrides)
    app = create_app(cfg)

    def capture():
        return {"addr": request.remote_addr, "scheme": request.scheme,
                "url": url_for("api.healthz", _external=True)}

    app.before_request_funcs.setdefault(None, []).insert(0, capture)
    return app.test_client().get("/healthz", headers=FORWARDED,
                                 environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_json()


def test_forwarded_headers_ignored_without_setting(tmp_path):
    seen = _seen(tmp_path)
    assert seen["addr"] == "10.0.0.2"
    assert seen["scheme"] == "http"
    assert seen["url"].startswith("http://localhost/")


def test_forwarded_headers_trusted_behind_one_proxy(tmp_path):
    seen = _seen(tmp_path, PROXY_COUNT=1)
    assert seen["addr"] == "203.0.113.7"
    assert seen["scheme"] == "https"
    assert seen["url"].startswith("https://leerplicht.example.nl/")


def test_proxy_count_from_environment(monkeypatch):
    monkeypatch.setenv("CASEWORK_PROXY_COUNT", "2")
    assert TestConfig.from_env()["PROXY_COUNT"] == 2
