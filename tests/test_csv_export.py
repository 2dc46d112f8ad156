"""The CSV export (`csvio.iter_export_csv`): on PostgreSQL the database writes the lines, in three
queries whatever the size, byte for byte what the Python path (`iter_export_rows` + `iter_csv_lines`)
writes; SQLite, and PostgreSQL with server-side cursors switched off, take the Python path.
"""

import csv
import datetime
import io
import math

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jurisdictions.db import csv_export
from jurisdictions.models import Certification, Jurisdiction
from jurisdictions.transfer import csvio
from tests.factories import (
    EnrollmentFactory,
    JurisdictionFactory,
    ProgramFactory,
    RequirementFactory,
    SourceFactory,
    psp,
)

pytestmark = pytest.mark.django_db

POSTGRESQL = connection.vendor == "postgresql"
only_postgresql = pytest.mark.skipif(not POSTGRESQL, reason="the database writes the CSV on PostgreSQL only")
CHUNK = 50


def python_path(queryset, **scope):
    return "".join(csvio.iter_csv_lines(csvio.iter_export_rows(queryset, **scope)))


def export(queryset, **kwargs):
    """(queries, text) of the export."""
    with CaptureQueriesContext(connection) as captured:
        text = "".join(csvio.iter_export_csv(queryset, **kwargs))
    return len(captured), text


@pytest.fixture
def tricky():
    """Cells a CSV writer or a spreadsheet must take care of, in several programs."""
    program = psp()  # launched 2017-06-20, requirements facility_access, release_notice, hold_request
    early = ProgramFactory(slug="early", launched_on=datetime.date(2010, 1, 1))
    RequirementFactory(program=early, code="data_sharing", order=1)
    RequirementFactory(program=early, code="hold_request", order=2)  # a code psp has too
    undated = ProgramFactory(slug="undated", launched_on=None)

    quoted = SourceFactory(
        title='Notice, "final"',
        publisher="",
        url="https://example.org/a,b",
        published_on=datetime.date(999, 1, 2),
    )
    formulas = SourceFactory(title="-minus", publisher="@publisher", url='=HYPERLINK("x")', published_on=None)

    comma = JurisdictionFactory(
        name="Lewis, Clark & Co", slug="lewis-clark-tn", geoid="4700001", ocd_id="ocd-division/country:us"
    )
    EnrollmentFactory(
        jurisdiction=comma,
        program=program,
        status="letter_sent",
        letter_sent_on=datetime.date(2017, 8, 3),
        response_due_on=datetime.date(2017, 8, 18),
        notes='He said "no", then\nleft.',
        source=quoted,
        answers={"hold_request": "no", "release_notice": "yes"},
    )
    EnrollmentFactory(
        jurisdiction=comma, program=early, status="participating", joined_on=datetime.date(2011, 2, 3)
    )
    formula = JurisdictionFactory(name="=SUM(A1:A9)", slug="sum-tn", geoid=None, ocd_id="@ocd")
    EnrollmentFactory(jurisdiction=formula, program=program, notes="+1 555 0100", source=formulas)
    EnrollmentFactory(jurisdiction=formula, program=undated, status="letter_sent", notes="-")
    tab = JurisdictionFactory(name="\tTabbed", slug="tabbed-tx", state="TX", kind="county", ocd_id="-dash")
    EnrollmentFactory(jurisdiction=tab, program=undated, notes="\rcarriage return", site_type="operations")
    EnrollmentFactory(jurisdiction=tab, program=early, status="pending", answers={"data_sharing": "no"})
    unicode = JurisdictionFactory(name="Cañon City — ☃ 東京", state="CO", slug="canon-city-co")
    EnrollmentFactory(jurisdiction=unicode, program=program, status="participating", notes="🎉 joined")
    JurisdictionFactory(name="Blankville", geoid=None, ocd_id="")  # no enrollment, blank optional fields
    quote = JurisdictionFactory(name='O"Brien Township', kind="other", ocd_id="ocd\r\nid")
    EnrollmentFactory(jurisdiction=quote, program=early, status="letter_sent", site_type="diagnostic")
    JurisdictionFactory(name="Zeta @ End", state="WY")
    # An answer's details hold text that needs quoting or a formula guard, dates and a source.
    Certification.objects.filter(enrollment__jurisdiction=comma, requirement__code="hold_request").update(
        answer="not_applicable",
        facility_operator="Sheriff, County of Lewis",
        legal_basis="policy",
        citation="=Policy 5",
        evidence_url="https://example.org/policy?a=1,2",
        certified_by='Chief "Ed" Jones',
        certified_on=datetime.date(2017, 9, 1),
        source=formulas,
    )
    Certification.objects.filter(enrollment__jurisdiction=tab, requirement__code="data_sharing").update(
        citation="§ 12", certified_on=datetime.date(2018, 1, 2), source=quoted
    )
    return Jurisdiction.objects.order_by("name")


# --- Same bytes as the Python path -----------------------------------------------------------------

SCOPES = [
    {},
    {"programs": ["psp"]},
    {"programs": ["early", "undated"]},
    {"statuses": ["pending"]},
    {"programs": ["psp"], "statuses": ["letter_sent", "participating"]},
    {"programs": ["nothing-like-it"]},
]


@only_postgresql
@pytest.mark.parametrize("answers_by_index", [True, False], ids=["answers-by-index", "answers-scanned"])
@pytest.mark.parametrize("scope", SCOPES, ids=lambda s: "&".join(f"{k}={','.join(v)}" for k, v in s.items()))
def test_postgresql_writes_the_same_bytes_as_the_python_path(tricky, monkeypatch, scope, answers_by_index):
    monkeypatch.setattr(csv_export, "ANSWERS_BY_INDEX_BELOW", 10**9 if answers_by_index else 0)
    for queryset, expected in (
        (tricky, 3),  # the database wrote it: requirements, jurisdiction ids, lines
        (Jurisdiction.objects.order_by("-state", "-name"), 3),
        (Jurisdiction.objects.filter(kind__in=["county", "other", "city"]).order_by("-pk"), 3),
        (Jurisdiction.objects.none(), 2),  # Django knows there are no ids without asking
    ):
        queries, text = export(queryset, chunk_size=2, **scope)
        assert queries == expected
        assert text == python_path(queryset, **scope)


@only_postgresql
def test_the_tricky_cells_are_there_to_compare(tricky):
    text = export(tricky)[1]
    lines = text.split("\r\n")
    assert lines[0] == ",".join(csvio.csv_columns())
    assert lines[0].split(",")[12:76:16] == [  # 16 columns per code (issue 14: basis, a second source)
        "data_sharing",
        "hold_request",
        "facility_access",
        "release_notice",
    ]
    for cell in (
        '"Lewis, Clark & Co"',
        '"He said ""no"", then\nleft."',
        '"Notice, ""final"""',
        "0999-01-02",
        "'=SUM(A1:A9)",
        "'@ocd",
        "'+1 555 0100",
        '\'-minus,\'@publisher,"\'=HYPERLINK(""x"")"',
        "'\tTabbed",
        '"\'\rcarriage return"',
        "Cañon City — ☃ 東京",
        "\r\nblankville-tn,Blankville,TN,city"
        + "," * 81
        + "\r\n",  # 85 columns (4 codes x 16, 4 of the site type's source)
        '"Sheriff, County of Lewis",policy,\'=Policy 5,"https://example.org/policy?a=1,2","Chief ""Ed"" Jones",2017-09-01',
        '\'-minus,\'@publisher,"\'=HYPERLINK(""x"")",,',  # the answer's source, undated
        '"O""Brien Township"',
        '"ocd\r\nid"',
    ):
        assert cell in text, cell
    # Each jurisdiction's programs by launch date, the undated one last (PostgreSQL sorts NULL last).
    programs = {}
    for row in list(csv.reader(io.StringIO(text)))[1:]:
        programs.setdefault(row[0], []).append(row[6])
    assert programs == {
        "tabbed-tx": ["early", "undated"],
        "sum-tn": ["psp", "undated"],
        "blankville-tn": [""],
        "canon-city-co": ["psp"],
        "lewis-clark-tn": ["early", "psp"],
        "obrien-township-tn": ["early"],
        "zeta-end-wy": [""],
    }


# --- Queries ---------------------------------------------------------------------------------------


def expected_queries(jurisdictions):
    """Three on PostgreSQL; the Python path reads two more per chunk of jurisdictions."""
    if POSTGRESQL and not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"):
        return 3
    return 3 + 2 * math.ceil(jurisdictions / CHUNK)


@pytest.mark.parametrize("server_side_cursors", [True, False], ids=["default", "server-side-cursors-off"])
def test_the_export_costs_a_fixed_number_of_queries_on_postgresql(monkeypatch, server_side_cursors):
    if not server_side_cursors:
        monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)
    call_command("generate_jurisdictions", "--count", "30", "--seed", "5", stdout=None)
    small_queries, small = export(Jurisdiction.objects.all(), chunk_size=CHUNK)
    call_command("generate_jurisdictions", "--count", "150", "--seed", "6", stdout=None)
    large_queries, large = export(Jurisdiction.objects.all(), chunk_size=CHUNK)

    assert (small.count("\r\n"), large.count("\r\n")) == (1 + 30, 1 + 180)
    assert (small_queries, large_queries) == (expected_queries(30), expected_queries(180))
    if POSTGRESQL and server_side_cursors:
        assert small_queries == large_queries == 3
    assert large == python_path(Jurisdiction.objects.all())


@pytest.mark.parametrize(
    "url", [reverse("jurisdictions:jurisdiction-list") + "?format=csv", "/api/v1/jurisdictions/?format=csv"]
)
def test_a_csv_download_costs_the_same_queries_for_more_jurisdictions(client, url):
    def download():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
            body = b"".join(response.streaming_content)
        assert response.status_code == 200
        return len(captured), body.count(b"\r\n") - 1

    call_command("generate_jurisdictions", "--count", "20", "--seed", "5", stdout=None)
    small = download()
    call_command("generate_jurisdictions", "--count", "2100", "--seed", "6", stdout=None)
    large = download()
    assert (small[1], large[1]) == (20, 2120)
    if POSTGRESQL:
        assert small[0] == large[0]  # the export's 3, and what the view itself reads
    else:
        assert large[0] - small[0] == 2  # a second chunk of 2,000 jurisdictions


# --- The cursor ------------------------------------------------------------------------------------


def open_cursors():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors")
        return cursor.fetchone()[0]


def stop_halfway(queryset):
    chunks = csvio.iter_export_csv(queryset, chunk_size=2)
    next(chunks)  # the header
    next(chunks)  # the first two lines
    assert open_cursors() == 1
    chunks.close()  # what the server does when the client goes away
    assert open_cursors() == 0


@only_postgresql
def test_a_download_stopped_halfway_closes_its_cursor(tricky):
    stop_halfway(tricky)


@only_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_download_stopped_halfway_in_autocommit_closes_its_held_cursor():
    # Its own data: an earlier transactional test may have flushed what the migrations created.
    program = ProgramFactory(slug="autocommit")
    RequirementFactory(program=program, code="hold_request")
    for n in range(6):
        EnrollmentFactory(jurisdiction=JurisdictionFactory(name=f"Held {n}"), program=program)
    assert connection.get_autocommit()  # so the cursor is declared WITH HOLD, as in production
    stop_halfway(Jurisdiction.objects.order_by("name"))


def test_the_header_comes_before_any_jurisdiction_is_read(tricky):
    with CaptureQueriesContext(connection) as captured:
        header = next(csvio.iter_export_csv(tricky))
    assert header == ",".join(csvio.csv_columns()) + "\r\n"
    assert len(captured) == (1 if POSTGRESQL else 2)  # the requirements (the Python path reads them twice)
    assert all("jurisdictions_jurisdiction" not in q["sql"] for q in captured.captured_queries)
