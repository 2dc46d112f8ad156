"""/healthz, /readyz, the 503 when the database is down, and request ids in responses and logs."""

import io
import json
import logging
import re

import pytest
from django.db import connections
from django.db.utils import load_backend
from django.http import StreamingHttpResponse
from django.urls import path

from jurisdictions.models import Jurisdiction
from psp_tracker import urls as site_urls
from psp_tracker.middleware import JsonFormatter, RequestIdFilter
from tests.problems import detail_of


def _streamed_rows(request):
    # Like the CSV exports: the database is read only once the server iterates the response.
    def rows():
        yield f"{Jurisdiction.objects.count()}\n"

    return StreamingHttpResponse(rows(), content_type="text/csv")


# The site's own patterns, not include(): only a root URLconf may hold i18n_patterns.
urlpatterns = [path("streamed/", _streamed_rows), *site_urls.urlpatterns]


@pytest.fixture
def database_down(django_db_blocker):
    """The default database points at one that cannot be reached, as after a crash.

    A fresh connection object with an unreachable address (a closed port for PostgreSQL, a file in a
    folder that does not exist for SQLite) replaces the real one: the views then meet exactly the
    error that the database driver raises when the server is gone.
    """
    original = connections["default"]
    settings_dict = dict(original.settings_dict)
    if original.vendor == "postgresql":
        settings_dict.update(HOST="127.0.0.1", PORT="9")
    else:
        settings_dict.update(NAME="/nonexistent-folder/psp.sqlite3")
    broken = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "default")
    connections["default"] = broken
    with django_db_blocker.unblock():
        try:
            yield
        finally:
            broken.close()
            connections["default"] = original


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: pytest-django refuses any database access here, so a query would fail.
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert "no-store" in response.headers["Cache-Control"]


@pytest.mark.django_db
def test_readyz_reports_the_database_answers(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok"})


def test_readyz_is_503_with_a_reason_when_the_database_is_down(client, database_down):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "database: OperationalError"}
    assert response.headers["Retry-After"] == "5"


def test_healthz_stays_up_when_the_database_is_down(client, database_down):
    assert client.get("/healthz").status_code == 200


def test_a_page_answers_a_clean_503_page_when_the_database_is_down(client, database_down):
    response = client.get("/jurisdictions/", headers={"Accept": "text/html"})
    body = response.content.decode()
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<h1>Service unavailable</h1>" in body
    assert "Traceback" not in body and "OperationalError" not in body


def test_a_json_client_gets_a_json_503_when_the_database_is_down(client, database_down):
    response = client.get("/jurisdictions/", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert detail_of(response)


@pytest.mark.django_db
def test_every_response_carries_a_request_id(client):
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert (
        client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"}).headers["X-Request-ID"] == "lb-7f3a.42"
    )
    forged = client.get("/healthz", headers={"X-Request-ID": "x\n{fake log line}"}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", forged)


def test_each_request_logs_one_json_line_with_its_request_id(client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("psp_tracker.request")
    logger.addHandler(handler)
    try:
        client.get("/healthz", headers={"X-Request-ID": "req-123"}, REMOTE_ADDR="192.0.2.4")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 1
    line = lines[0]
    assert {k: line[k] for k in ("level", "message", "request_id", "method", "path", "status", "client")} == {
        "level": "INFO",
        "message": "GET /healthz 200",
        "request_id": "req-123",
        "method": "GET",
        "path": "/healthz",
        "status": 200,
        "client": "192.0.2.4",
    }
    assert line["duration_ms"] >= 0


@pytest.mark.urls(__name__)
def test_a_streamed_response_is_a_503_when_the_database_is_down_before_the_first_byte(client, database_down):
    response = client.get("/streamed/", headers={"Accept": "text/csv"})
    assert response.status_code == 503
    assert "<h1>Service unavailable</h1>" in response.content.decode()


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_a_streamed_response_is_unchanged_when_the_database_answers(client):
    response = client.get("/streamed/")
    assert (response.status_code, b"".join(response.streaming_content)) == (200, b"0\n")
