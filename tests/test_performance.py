"""Query counts at scale: a list costs the same number of queries whatever its page size, its depth
or the size of the data; the CSV export and the importer grow by chunks, not by rows.

Times are not asserted (they depend on the machine); scripts/bench.py measures them.
"""

import datetime
import zoneinfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jurisdictions.models import Jurisdiction
from jurisdictions.transfer.csvio import export_csv_text, iter_export_rows
from jurisdictions.transfer.importer import import_jurisdictions

pytestmark = pytest.mark.django_db

HTML_LIST = reverse("jurisdictions:jurisdiction-list")
API_LIST = "/api/v1/jurisdictions/"


@pytest.fixture
def synthetic():
    call_command("generate_jurisdictions", "--count", "120", "--seed", "5", stdout=None)
    return Jurisdiction.objects.order_by("name")


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, response.content[:500]
    return len(captured)


def test_the_html_list_costs_the_same_queries_for_any_page_size_or_page(client, synthetic):
    counts = {
        url: queries(client, url)
        for url in (
            f"{HTML_LIST}?page_size=5",
            f"{HTML_LIST}?page_size=100",
            f"{HTML_LIST}?page_size=10&page=12",
        )
    }
    assert len(set(counts.values())) == 1, counts
    # A filter may add its own fixed cost (the program slug is looked up), never one per row.
    filtered = "search=synthetic&program=psp&status=pending"
    assert queries(client, f"{HTML_LIST}?page_size=5&{filtered}") == queries(
        client, f"{HTML_LIST}?page_size=100&{filtered}"
    )


def test_the_api_list_costs_the_same_queries_for_any_page_size_or_page(client, synthetic):
    counts = {
        url: queries(client, url)
        for url in (
            f"{API_LIST}?page_size=5",
            f"{API_LIST}?page_size=100",
            f"{API_LIST}?page_size=10&page=12",
        )
    }
    assert len(set(counts.values())) == 1, counts
    filtered = "search=synthetic&program=psp&status=pending&ordering=-updated_at"
    assert queries(client, f"{API_LIST}?page_size=5&{filtered}") == queries(
        client, f"{API_LIST}?page_size=100&{filtered}"
    )


def test_a_detail_page_costs_the_same_queries_for_any_jurisdiction(client, synthetic):
    slugs = list(synthetic.filter(enrollments__isnull=False).values_list("slug", flat=True)[:3])
    html = {queries(client, reverse("jurisdictions:jurisdiction-detail", args=[s])) for s in slugs}
    api = {queries(client, f"{API_LIST}{s}/") for s in slugs}
    assert (len(html), len(api)) == (1, 1)


def test_the_list_query_count_does_not_grow_with_the_data(client, synthetic):
    before = (queries(client, f"{HTML_LIST}?page_size=20"), queries(client, f"{API_LIST}?page_size=20"))
    call_command("generate_jurisdictions", "--count", "200", "--seed", "6", stdout=None)
    after = (queries(client, f"{HTML_LIST}?page_size=20"), queries(client, f"{API_LIST}?page_size=20"))
    assert before == after


def test_the_csv_export_reads_two_queries_per_chunk_of_jurisdictions(synthetic):
    def export_queries(chunk_size):
        with CaptureQueriesContext(connection) as captured:
            rows = list(iter_export_rows(Jurisdiction.objects.all(), chunk_size=chunk_size))
        return len(captured), len(rows)

    # Fixed: requirements (twice: ids and codes) and the streamed jurisdictions; then per chunk
    # one query for its enrollments and one for their answers.
    one_chunk, rows = export_queries(1000)
    four_chunks, same_rows = export_queries(30)
    assert rows == same_rows == 1 + 120 + 0  # header, then one row per jurisdiction (one program)
    assert four_chunks - one_chunk == 3 * 2


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite splits bulk inserts into batches by its limit on query variables",
)
def test_the_importer_costs_the_same_queries_for_a_small_and_a_larger_file(synthetic):
    def import_queries(count):
        ids = list(synthetic.filter(geoid__startswith="99").values_list("pk", flat=True)[:count])
        text = export_csv_text(Jurisdiction.objects.filter(pk__in=ids).order_by("pk"))
        text = text.replace("synthetic-", f"synthetic-copy{count}-").replace(",not_applicable", ",no")
        # New GEOIDs that stay synthetic (99: the GEOID rule leaves them alone), one digit longer.
        text = text.replace(",99", ",998" if count == 10 else ",997")
        with CaptureQueriesContext(connection) as captured:
            report = import_jurisdictions(text.encode(), filename="copy.csv")
        assert (report.ok, report.counts()["new"]) == (True, count), report.errors[:3]
        return len(captured)

    assert import_queries(10) == import_queries(100)


def test_the_one_representation_writes_what_drfs_own_fields_of_the_declared_serializers_write(rf, synthetic):
    from django.db.models import Prefetch
    from rest_framework import serializers
    from rest_framework.renderers import JSONRenderer
    from rest_framework.request import Request

    from jurisdictions.api.renderers import FastJSONRenderer
    from jurisdictions.api.serializers import (
        CertificationDetailSerializer,
        EnrollmentDetailSerializer,
        JurisdictionSerializer,
    )
    from jurisdictions.models import Certification, Enrollment
    from tests.factories import EnrollmentFactory, JurisdictionFactory

    # Beyond the synthetic mix: an enrollment without a source, notes and dates, and a jurisdiction
    # without GEOID or enrollment.
    EnrollmentFactory(jurisdiction=JurisdictionFactory(name="Aaa Town"), status="letter_sent")
    JurisdictionFactory(name="Aab Town", geoid=None)
    request = Request(rf.get(API_LIST))
    context = {"request": request}
    # The declared serializers, run by DRF field by field (their base to_representation), over
    # model objects loaded the ordinary way, in the order pages show them.
    certifications = Certification.objects.select_related("requirement", "source").order_by(
        "requirement__order"
    )
    enrollments = (
        Enrollment.objects.select_related("program", "source", "jurisdiction")
        .prefetch_related(Prefetch("certifications", queryset=certifications))
        .order_by("program__launched_on", "program__name")
    )
    objects = list(
        Jurisdiction.objects.prefetch_related(Prefetch("enrollments", queryset=enrollments)).order_by(
            "name", "state", "pk"
        )[:80]
    )
    declared = JurisdictionSerializer(context=context)
    by_fields = []
    for j in objects:
        j.page_url = request.build_absolute_uri(j.get_absolute_url())  # what the declared field reads
        by_fields.append(serializers.ModelSerializer.to_representation(declared, j))
    expected = JSONRenderer().render(by_fields)
    listed = JurisdictionSerializer(objects, many=True, context=context).data
    # The representation leaves dates and times to the renderer: DRF's and the API's write the same JSON.
    assert JSONRenderer().render(listed) == expected
    assert FastJSONRenderer().render(listed) == expected
    assert [JurisdictionSerializer(j, context=context).data for j in objects] == list(listed)
    # An enrollment and a certification alone, likewise.
    enrollment = next(e for j in objects for e in j.enrollments.all())
    alone = EnrollmentDetailSerializer(context=context)
    assert JSONRenderer().render(EnrollmentDetailSerializer(enrollment, context=context).data) == (
        JSONRenderer().render(serializers.ModelSerializer.to_representation(alone, enrollment))
    )
    certification = enrollment.certifications.all()[0]
    one = CertificationDetailSerializer(context=context)
    assert JSONRenderer().render(CertificationDetailSerializer(certification, context=context).data) == (
        JSONRenderer().render(serializers.ModelSerializer.to_representation(one, certification))
    )


@pytest.mark.parametrize(
    "query",
    ["", "ordering=-updated_at", "kind=city&kind=other", "ordering=status", "search=synthetic&kind=city"],
)
def test_deep_pages_list_the_same_rows_in_the_same_order_as_plain_slicing(synthetic, query):
    from django.core.paginator import Paginator
    from django.http import QueryDict

    from jurisdictions.db.paging import ListPaginator
    from jurisdictions.filters import JurisdictionFilter

    filterset = JurisdictionFilter(QueryDict(query), queryset=Jurisdiction.objects.all())
    assert filterset.is_valid()
    for number in (1, 2, 3):
        deferred = [j.pk for j in ListPaginator(filterset.qs, 7).page(number)]
        plain = [j.pk for j in Paginator(filterset.qs, 7).page(number)]
        assert deferred == plain and len(plain) == 7


@pytest.mark.parametrize(
    "query",
    ["", "ordering=-updated_at", "kind=city&kind=other", "ordering=status", "search=synthetic&kind=city"],
)
def test_the_counting_paginator_gives_djangos_pages_and_count_in_one_query(synthetic, query):
    from django.core.paginator import Paginator
    from django.http import QueryDict

    from jurisdictions.db.paging import ListPaginator
    from jurisdictions.filters import JurisdictionFilter

    filterset = JurisdictionFilter(QueryDict(query), queryset=Jurisdiction.objects.all())
    assert filterset.is_valid()
    plain = Paginator(filterset.qs, 7)
    assert plain.num_pages > 3
    # An ordering by status annotates (an aggregate): the count then keeps a query of its own.
    expected_queries = 2 if "ordering=status" in query else 1
    for number in (1, 2, 3, plain.num_pages):
        counting = ListPaginator(filterset.qs, 7)
        with CaptureQueriesContext(connection) as captured:
            rows = [j.pk for j in counting.page(number)]
            count, num_pages = counting.count, counting.num_pages
        assert rows == [j.pk for j in plain.page(number)]
        assert (count, num_pages) == (plain.count, plain.num_pages)
        assert len(captured) == expected_queries


def test_the_counting_paginator_refuses_the_pages_djangos_refuses(synthetic):
    from django.core.paginator import EmptyPage, PageNotAnInteger

    from jurisdictions.db.paging import ListPaginator

    everything = Jurisdiction.objects.order_by("name", "state", "pk")
    last = ListPaginator(everything, 50).num_pages
    for number, error in (
        (last + 1, EmptyPage),
        (10**18, EmptyPage),
        (0, EmptyPage),
        ("x", PageNotAnInteger),
    ):
        with pytest.raises(error):
            ListPaginator(everything, 50).page(number)
    # Past the end, the count takes a query of its own (to say how many pages there are).
    with CaptureQueriesContext(connection) as captured, pytest.raises(EmptyPage):
        ListPaginator(everything, 50).page(last + 1)
    assert len(captured) == 2
    # Nothing at all: an empty first page, counted 0, in one query.
    nothing = ListPaginator(everything.filter(name="no such place"), 50)
    with CaptureQueriesContext(connection) as captured:
        assert (list(nothing.page(1)), nothing.count, nothing.num_pages) == ([], 0, 1)
    assert len(captured) == 1


@pytest.mark.parametrize("path", ["", "?page_size=3&ordering=-updated_at", "?status=bogus", "nowhere-zz/"])
def test_the_api_json_renderer_writes_exactly_what_drf_writes(rf, synthetic, path):
    from rest_framework.renderers import JSONRenderer

    from jurisdictions.api.renderers import FastJSONRenderer
    from jurisdictions.api.views import JurisdictionViewSet

    request = rf.get(f"{API_LIST}{path}", HTTP_ACCEPT="application/json")
    action = {"get": "retrieve" if path.endswith("/") else "list"}
    kwargs = {"slug": path.rstrip("/")} if path.endswith("/") else {}
    response = JurisdictionViewSet.as_view(action)(request, **kwargs)
    assert isinstance(response.accepted_renderer, FastJSONRenderer)
    assert response.rendered_content == JSONRenderer().render(response.data)


@pytest.mark.parametrize(
    "value",
    [
        datetime.datetime(2017, 8, 1, 12, 30, tzinfo=datetime.UTC),
        datetime.datetime(2017, 8, 1, 12, 30, 5, 120, tzinfo=datetime.UTC),
        datetime.datetime(2017, 1, 1, tzinfo=zoneinfo.ZoneInfo("Europe/London")),  # offset 0, not UTC
        datetime.datetime(2017, 8, 1, tzinfo=zoneinfo.ZoneInfo("America/Chicago")),
        datetime.datetime(2017, 8, 1, 12, 30),
        datetime.date(2017, 8, 1),
        datetime.date(1, 1, 1),
    ],
)
def test_the_api_json_renderer_writes_dates_and_times_as_drf_does(value):
    from rest_framework.renderers import JSONRenderer

    from jurisdictions.api.renderers import FastJSONRenderer

    data = {"at": value, "list": [value, None]}
    assert FastJSONRenderer().render(data) == JSONRenderer().render(data)


def test_the_fast_import_path_keeps_a_note_that_looks_like_copys_null_marker():
    from jurisdictions.models import Enrollment

    text = (
        "name,state,kind,program,status,notes\n"
        "Memphis,TN,city,psp,pending,\\N\n"
        "Jackson,TN,city,psp,pending,\n"
    )
    report = import_jurisdictions(text.encode(), filename="marker.csv")
    assert (report.ok, report.summary()) == (True, "2 new, 0 changed, 0 unchanged")
    notes = dict(Enrollment.objects.values_list("jurisdiction__slug", "notes"))
    assert notes == {"memphis-tn": "\\N", "jackson-tn": ""}
    assert Jurisdiction.objects.get(slug="jackson-tn").geoid is None


def test_footer_dates_are_the_latest_recording_and_latest_effective_day_in_one_query():
    # The footer reads index ends in one query (statuschange_effective_idx, changed_at) instead of
    # aggregates over every change; the answers must be the aggregates'.
    from django.db.models import Max
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from jurisdictions.context_processors import _dates
    from jurisdictions.models import StatusChange
    from tests.factories import StatusChangeFactory

    def facts_as_of():
        with CaptureQueriesContext(connection) as queries:
            latest, day = _dates()
        assert len(queries) == 1
        assert latest == StatusChange.objects.aggregate(latest=Max("changed_at"))["latest"]
        return day

    StatusChange.objects.all().delete()
    assert facts_as_of() is None
    aware = datetime.datetime(2020, 5, 1, 12, tzinfo=datetime.UTC)
    dated = StatusChangeFactory(effective_on=datetime.date(2019, 3, 1), changed_at=aware)
    assert facts_as_of() == datetime.date(2019, 3, 1)
    # An undated change counts from the day it was recorded, when that is later.
    StatusChangeFactory(effective_on=None, changed_at=aware)
    assert facts_as_of() == timezone.localdate(aware)
    # A correction is not an event, however late its date (but it was recorded, latest of all).
    StatusChangeFactory(
        enrollment=dated.enrollment,
        effective_on=datetime.date(2024, 1, 1),
        correction_of=dated,
        correction_reason="Wrong date.",
        changed_at=aware + datetime.timedelta(days=1),
    )
    assert facts_as_of() == timezone.localdate(aware)
    StatusChangeFactory(effective_on=datetime.date(2021, 7, 4), changed_at=aware)
    assert facts_as_of() == datetime.date(2021, 7, 4)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="other databases run the queryset itself")
def test_a_pages_rows_read_the_documents_table_once_not_once_per_cited_document(synthetic):
    # Four joined copies of the documents table cost PostgreSQL 2.7 ms of planning for a page of 50
    # (db/compiled.py); the rows must still carry every document (tests/test_compiled.py compares
    # them with the ORM's, value for value).
    from jurisdictions.rows import BY_JURISDICTION, enrollment_rows

    ids = list(synthetic.values_list("pk", flat=True)[:50])
    with CaptureQueriesContext(connection) as captured:
        rows = enrollment_rows(jurisdiction_ids=ids)
    assert len(captured) == 1
    assert captured[0]["sql"].count('"jurisdictions_source"') == 1
    assert any(row.c_source_title for row in rows) and any(row.source_title for row in rows)
    assert BY_JURISDICTION.rows(ids) == [tuple(row) for row in rows]


def test_a_record_is_read_in_two_queries_and_its_timeline_in_one(synthetic):
    from jurisdictions.record import _timeline, jurisdiction_with_record, record_rows

    enrolled = synthetic.filter(enrollments__isnull=False).first()
    with CaptureQueriesContext(connection) as captured:
        record = jurisdiction_with_record(enrolled.slug)
        rows = record_rows(record, None)
        events = _timeline(record.enrollments, None)
        # Everything the page shows of them is in hand: no query per enrollment, answer or change.
        for row in rows:
            for item in row["requirements"]:
                assert item["requirement"].code and item["certification"].answer
                str(item["certification"].source)
        for event in events:
            str(event.enrollment.program), str(event.source)
    assert record.jurisdiction == enrolled and rows and events
    assert len(captured) == 3
    assert all(e.jurisdiction is record.jurisdiction for e in record.enrollments)

    alone = Jurisdiction.objects.create(name="Unenrolled", state="OH", kind="city", slug="unenrolled-oh")
    with CaptureQueriesContext(connection) as captured:
        record = jurisdiction_with_record("unenrolled-oh")
        assert _timeline(record.enrollments, None) == []
    assert record == (alone, [], {}) and len(captured) == 2
    assert jurisdiction_with_record("no-such-place") is None
