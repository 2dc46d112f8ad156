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
