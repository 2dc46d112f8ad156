"""Queries compiled once: the same rows as the queryset they stand for, one query, built once."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.db.models import JSONField
from django.db.models.functions import Cast

from jurisdictions.db.compiled import CompiledRows
from jurisdictions.models import Enrollment, Jurisdiction
from jurisdictions.rows import BY_JURISDICTION, COLUMNS
from tests.factories import EnrollmentFactory, JurisdictionFactory

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="other databases run the queryset itself"
)


@pytest.fixture
def page_ids():
    call_command("generate_jurisdictions", "--count", "60", "--seed", "3", stdout=None)
    EnrollmentFactory(jurisdiction=JurisdictionFactory(name="Aaa Town"), status="letter_sent", notes="")
    JurisdictionFactory(name="Aab Town", geoid=None)
    return list(Jurisdiction.objects.order_by("name", "state", "pk").values_list("pk", flat=True)[:40])


def nested_queryset():
    return Enrollment.objects.order_by(
        "jurisdiction_id", "program__launched_on", "program__name", "certifications__requirement__order"
    ).values_list(*COLUMNS.values())


def test_the_rows_are_the_querysets_rows_in_its_order(page_ids):
    rows = CompiledRows(nested_queryset, "jurisdiction_id").rows(page_ids)
    expected = list(nested_queryset().filter(jurisdiction_id__in=page_ids))
    assert len(expected) > 40  # enrollments with three answers each, and one without an enrollment
    assert rows == expected
    # Same types too (dates, aware datetimes), not only equal values.
    assert [tuple(map(type, row)) for row in rows] == [tuple(map(type, row)) for row in expected]
    assert BY_JURISDICTION.rows(page_ids) == expected


def test_each_call_is_one_query_and_no_ids_none(page_ids, django_assert_num_queries):
    compiled = CompiledRows(nested_queryset, "jurisdiction_id")
    for ids in (page_ids, page_ids[:3], iter(page_ids[3:9])):
        with django_assert_num_queries(1):
            assert compiled.rows(ids)
    with django_assert_num_queries(0):
        assert compiled.rows([]) == []


@postgresql_only
def test_the_query_is_built_and_compiled_once(page_ids):
    built = []

    def build():
        built.append(1)
        return nested_queryset()

    compiled = CompiledRows(build, "jurisdiction_id")
    first, second = compiled.rows(page_ids[:20]), compiled.rows(page_ids[20:])
    assert first and second and first != second
    assert len(built) == 1


@postgresql_only
@pytest.mark.parametrize(
    "build",
    [
        lambda: Enrollment.objects.filter(status="pending").values_list("id"),  # a parameter of its own
        lambda: Enrollment.objects.values_list(Cast("notes", JSONField())),  # a value Django converts
    ],
)
def test_a_query_the_cursor_cannot_stand_for_is_refused(page_ids, build):
    with pytest.raises(ImproperlyConfigured):
        CompiledRows(build, "jurisdiction_id").rows(page_ids)


# -- a page read with its rows (rows.listed, CompiledRowsCitingDocuments.rows_under) ---------------


def _expected(queryset):
    """What `listed` must give: the ORM's page as model instances, then their rows (`listed_of`,
    which a detail uses: the page, then `enrollment_rows` of its ids)."""
    from jurisdictions.rows import listed_of

    return listed_of(queryset)


@pytest.mark.parametrize(
    "ordering",
    [None, ("-updated_at", "name", "state", "pk"), ("state", "name", "pk"), ("-name", "state", "pk")],
)
def test_a_listed_page_is_the_orms_page_with_each_jurisdictions_rows_in_order(page_ids, ordering):
    from jurisdictions.rows import listed

    everything = Jurisdiction.objects.all() if ordering is None else Jurisdiction.objects.order_by(*ordering)
    for page in (
        everything[:25],
        everything[25:50],
        everything.filter(pk__in=everything.values("pk")[10:30]),
    ):
        found, total = listed(page)
        expected = _expected(page)
        assert total is None
        assert found == expected
        # Same types too (aware datetimes, dates), not only equal values.
        assert [tuple(map(type, j[:-1])) for j in found] == [tuple(map(type, j[:-1])) for j in expected]
    # Jurisdictions without enrollments are listed too, with no rows.
    found, _ = listed(everything)
    assert any(not j.rows for j in found) and any(j.rows for j in found)
    assert sum(len(j.rows) for j in found) > len(found)


def test_a_listed_page_reads_the_count_annotation_with_it(page_ids):
    from jurisdictions.db.paging import CountOf
    from jurisdictions.rows import listed

    matching = Jurisdiction.objects.filter(name__gte="B")
    counted = matching.annotate(n=CountOf(matching))
    found, total = listed(counted[:10], count="n")
    assert total == matching.count() and len(found) == 10
    assert found == _expected(matching[:10])
    assert listed(counted.filter(name="no such place"), count="n") == ([], None)


@postgresql_only
def test_a_listed_page_is_one_statement_on_postgresql(page_ids, django_assert_num_queries):
    from jurisdictions.rows import listed

    with django_assert_num_queries(1):
        found, _ = listed(Jurisdiction.objects.order_by("name", "state", "pk")[:40])
    assert [j.pk for j in found] == page_ids


def test_the_api_and_html_lists_read_their_page_with_its_rows(client, page_ids):
    # The page, its count and what it shows: one statement on PostgreSQL, two queries elsewhere;
    # plus the data version (and on the HTML page, what it reads besides its rows).
    from django.test.utils import CaptureQueriesContext

    from jurisdictions.cache import bump_data_version

    bump_data_version()
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/jurisdictions/?page_size=40")
    assert response.status_code == 200
    assert [j["slug"] for j in response.json()["results"]] == list(
        Jurisdiction.objects.filter(pk__in=page_ids)
        .order_by("name", "state", "pk")
        .values_list("slug", flat=True)
    )
    assert len(queries) == (2 if connection.vendor == "postgresql" else 3)
    reading = [q["sql"] for q in queries if "jurisdictions_certification" in q["sql"]]
    assert len(reading) == 1
    if connection.vendor == "postgresql":
        assert "parents" in reading[0] and "COUNT(*)" in reading[0]


def test_a_listed_page_of_a_filter_that_matches_nothing_by_construction_is_empty(page_ids):
    # `pk__in=[]` (an as_of day before anything was enrolled) compiles to no SQL at all.
    from jurisdictions.db.paging import CountOf
    from jurisdictions.rows import listed

    nothing = Jurisdiction.objects.filter(pk__in=[])
    assert listed(nothing[:10]) == ([], None)
    assert listed(nothing.annotate(n=CountOf(nothing))[:10], count="n") == ([], None)


@pytest.mark.parametrize("query", ["dates", "sources"])
def test_the_footers_compiled_queries_give_the_querysets_rows(page_ids, query, django_assert_num_queries):
    from jurisdictions import context_processors

    compiled = {"dates": context_processors.DATES, "sources": context_processors.SOURCES}[query]
    expected = [tuple(row) for row in compiled.build()]
    assert expected and expected[0][0] is not None  # the generated data has changes and documents
    for _ in range(2):  # compiled the first time, reused the second
        with django_assert_num_queries(1):
            rows = compiled.rows()
        assert rows == expected
        assert [tuple(map(type, row)) for row in rows] == [tuple(map(type, row)) for row in expected]


def _described(instance, relations):
    """Every field value of an instance and of the related instances it holds, by name."""
    described = {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}
    for name in relations:
        related = getattr(instance, name)
        described[name] = None if related is None else _described(related, ())
    return described


@pytest.mark.parametrize("query", ["ENROLLMENTS", "ANSWERS", "CHANGES"])
def test_the_records_compiled_queries_give_the_querysets_instances(
    page_ids, query, django_assert_num_queries
):
    from jurisdictions import record

    compiled = getattr(record, query)
    relations = {
        "ENROLLMENTS": ("jurisdiction", "program", "source", "site_type_source"),
        "ANSWERS": ("requirement", "source", "second_source"),
        "CHANGES": ("source",),
    }[query]
    enrollment_ids = list(
        Enrollment.objects.filter(jurisdiction_id__in=page_ids).values_list("pk", flat=True)
    )
    values = (
        list(
            Jurisdiction.objects.filter(pk__in=page_ids, enrollments__isnull=False).values_list(
                "slug", flat=True
            )
        )
        if query == "ENROLLMENTS"
        else [enrollment_ids[:5], enrollment_ids[5:20]]
    )
    for value in values[:3]:
        expected = [_described(i, relations) for i in compiled.build(value)]
        assert expected
        # Each related instance is in hand: reading them costs no query.
        with django_assert_num_queries(1):
            found = [_described(i, relations) for i in compiled.objects(value)]
        assert found == expected


@postgresql_only
def test_compiled_objects_refuse_a_query_with_a_parameter_of_its_own(page_ids):
    from jurisdictions.db.compiled import CompiledObjects

    compiled = CompiledObjects(
        lambda slug: Enrollment.objects.filter(status="pending", jurisdiction__slug=slug)
    )
    with pytest.raises(ImproperlyConfigured):
        compiled.objects("aaa-town")
