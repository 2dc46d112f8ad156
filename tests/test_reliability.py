"""Hostile input and formula cells, checked in-process on every test run (SQLite and PostgreSQL).

scripts/reliability.py replays the same catalogue of hostile requests against gunicorn, together with
the load and PostgreSQL-restart checks (`.ci/run` runs its short form). Here the catalogue goes
through Django's test client, so a regression shows in the ordinary suite too.
"""

import csv
import importlib.util
import io
from pathlib import Path

import pytest

from jurisdictions.models import Enrollment, Jurisdiction, StatusChange
from jurisdictions.transfer.csvio import export_csv_text, neutralise, restore
from tests.factories import EnrollmentFactory, JurisdictionFactory

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("reliability", ROOT / "scripts" / "reliability.py")
reliability = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reliability)

pytestmark = pytest.mark.django_db
PROXY = {"X-Forwarded-Proto": "https"}


def data_snapshot():
    return (
        sorted(Jurisdiction.objects.values_list("slug", "name", "version")),
        sorted(Enrollment.objects.values_list("id", "status", "notes")),
        StatusChange.objects.count(),
        Jurisdiction.history.count(),
    )


@pytest.fixture
def some_data():
    EnrollmentFactory(jurisdiction=JurisdictionFactory(name="Memphis", state="TN"), status="letter_sent")
    JurisdictionFactory(name="Toledo", state="OH")


CASES = [case for case in reliability.hostile_requests() if case[0] not in reliability.SERVER_LIMIT_CASES]


@pytest.mark.parametrize(
    ("name", "method", "path", "headers", "body", "expectation"), CASES, ids=[c[0] for c in CASES]
)
def test_hostile_requests_get_a_4xx_or_a_harmless_200_and_change_nothing(
    client, some_data, name, method, path, headers, body, expectation
):
    before = data_snapshot()
    content_type = headers.get("Content-Type", "application/octet-stream")
    other = {k: v for k, v in headers.items() if k not in {"Content-Type", "Content-Length"}}
    if method == "GET":
        response = client.get(path, headers=other)
    else:
        response = client.generic(method, path, data=body or b"", content_type=content_type, headers=other)
    assert response.status_code < 500
    if expectation == reliability.FOUR_XX:
        assert 400 <= response.status_code < 500
    else:
        assert response.status_code == 200 or 400 <= response.status_code < 500
    if not response.streaming:
        assert reliability.SCRIPT.encode() not in response.content
    assert data_snapshot() == before


CSV_CASES = reliability.CSV_FILES


@pytest.mark.parametrize(
    ("name", "filename", "data", "must_show_errors"), CSV_CASES, ids=[c[0] for c in CSV_CASES]
)
def test_bad_csv_files_posted_to_the_admin_import_page_are_refused_and_write_nothing(
    admin_client, some_data, name, filename, data, must_show_errors
):
    before = data_snapshot()
    upload = io.BytesIO(data)
    upload.name = filename
    # An accepted upload becomes an import job (recorded: not in the snapshot); its page has the errors.
    response = admin_client.post("/admin/jurisdictions/jurisdiction/import/", {"file": upload}, follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    if must_show_errors:
        assert "errornote" in body or "errorlist" in body
    assert reliability.SCRIPT not in body
    assert data_snapshot() == before


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@"])
def test_a_cell_starting_a_formula_is_neutralised_and_restored(prefix):
    text = f"{prefix}SUM(A1:A9)"
    assert neutralise(text) == f"'{text}"
    assert restore(neutralise(text)) == text
    assert neutralise("Memphis") == "Memphis"


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@"])
def test_exports_never_start_a_cell_with_a_formula_character(client, prefix):
    enrollment = EnrollmentFactory(
        jurisdiction=JurisdictionFactory(name=f"{prefix}Town", state="TN"),
        notes=f'{prefix}HYPERLINK("http://x")',
    )
    files = {
        "text": export_csv_text(Jurisdiction.objects.all()),
        "page": b"".join(client.get("/jurisdictions/?format=csv", headers=PROXY).streaming_content).decode(),
        "api": b"".join(
            client.get("/api/v1/jurisdictions/?format=csv", headers=PROXY).streaming_content
        ).decode(),
    }
    for source, text in files.items():
        rows = list(csv.DictReader(io.StringIO(text)))
        row = next(r for r in rows if r["slug"] == enrollment.jurisdiction.slug)
        assert (row["name"], row["notes"]) == (f"'{prefix}Town", f'\'{prefix}HYPERLINK("http://x")'), source
        for cells in rows:
            for value in cells.values():
                assert not (value or "").startswith(("=", "+", "-", "@")), (source, value)


def test_the_latency_percentiles_are_read_from_the_sorted_values():
    values = [float(v) for v in range(1, 101)]
    assert [reliability.percentile(values, q) for q in (0.5, 0.95, 0.99)] == [50.0, 95.0, 99.0]
    assert reliability.percentile([], 0.5) == 0.0
