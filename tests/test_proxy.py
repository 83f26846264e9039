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


# ------------------------------------------------------------------ production over plain HTTP

def _production(monkeypatch, tmp_path, **env):
    from config import ProductionConfig

    monkeypatch.setenv("CASEWORK_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("CASEWORK_AUDIT_KEY", "a" * 40)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    cfg = ProductionConfig.from_env()
    cfg.update(DATABASE_URL=f"sqlite:///{tmp_path}/unused.db", QUEUE_BACKEND="memory")
    return cfg


def test_production_refuses_an_http_public_url_at_start(monkeypatch, tmp_path):
    import pytest

    with pytest.raises(RuntimeError) as refused:
        _production(monkeypatch, tmp_path, CASEWORK_PUBLIC_URL="http://leerplicht.example.nl")
    assert "HTTPS" in str(refused.value) and "CASEWORK_ALLOW_HTTP=1" in str(refused.value)


def test_allow_http_is_an_explicit_lab_setting(monkeypatch, tmp_path):
    cfg = _production(monkeypatch, tmp_path, CASEWORK_PUBLIC_URL="http://lab.example.nl",
                      CASEWORK_ALLOW_HTTP="1")
    assert cfg["SESSION_COOKIE_SECURE"] is False and cfg["HSTS_SECONDS"] == 0
    client = create_app(cfg).test_client()
    page = client.get("/inloggen", base_url="http://lab.example.nl")
    assert page.status_code == 200 and "Inloggen" in page.get_data(as_text=True)


def test_a_plain_http_request_in_production_gets_a_page_that_says_why(monkeypatch, tmp_path):
    client = create_app(_production(monkeypatch, tmp_path)).test_client()
    web = client.get("/inloggen", base_url="http://leerplicht.example.nl")
    assert web.status_code == 400
    assert "alleen over HTTPS" in web.get_data(as_text=True)
    api = client.post("/api/v1/auth/token", base_url="http://leerplicht.example.nl",
                      json={"email": "x@example.nl", "password": "y"})
    assert api.status_code == 400 and api.get_json()["error"] == "https_required"
    # The load balancer's health check, the machine itself and HTTPS are served as always.
    assert client.get("/healthz", base_url="http://leerplicht.example.nl").status_code in (200, 503)
    assert client.get("/inloggen", base_url="http://127.0.0.1:8000").status_code == 200
    assert client.get("/inloggen", base_url="https://leerplicht.example.nl").status_code == 200


def test_behind_a_tls_proxy_the_forwarded_scheme_counts(monkeypatch, tmp_path):
    client = create_app(_production(monkeypatch, tmp_path, CASEWORK_PROXY_COUNT="1")).test_client()
    page = client.get("/inloggen", base_url="http://10.0.0.5:8000",
                      headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "leerplicht.example.nl"})
    assert page.status_code == 200
