"""generate_jurisdictions: synthetic data for benchmarks, clearly marked, never mixed with real data."""

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from jurisdictions.management.commands.generate_jurisdictions import SYNTHETIC_SOURCE_TITLE
from jurisdictions.models import (
    Certification,
    Enrollment,
    Jurisdiction,
    Source,
    State,
    StatusChange,
)
from tests.factories import JurisdictionFactory

pytestmark = pytest.mark.django_db


def generate(count, *args):
    call_command("generate_jurisdictions", "--count", str(count), *args, stdout=None)


def test_it_creates_the_number_asked_covering_every_state_and_kind():
    generate(300, "--seed", "7")
    assert Jurisdiction.objects.count() == 300
    assert set(Jurisdiction.objects.values_list("state", flat=True)) == set(State.values)
    assert set(Jurisdiction.objects.values_list("kind", flat=True)) == set(Jurisdiction.Kind.values)
    statuses = set(Enrollment.objects.values_list("status", flat=True))
    assert statuses == set(Enrollment.Status.values)
    answers = set(Certification.objects.values_list("answer", flat=True))
    assert answers == set(Certification.Answer.values)


def test_every_generated_record_is_marked_synthetic():
    generate(120)
    assert not Jurisdiction.objects.exclude(slug__startswith="synthetic-").exists()
    assert not Jurisdiction.objects.exclude(name__startswith="Synthetic ").exists()
    assert not Jurisdiction.objects.exclude(geoid__startswith="99").exists()
    marker = Source.objects.get(title=SYNTHETIC_SOURCE_TITLE)
    assert not StatusChange.objects.exclude(source=marker).exists()
    synthetic_sources = Source.objects.filter(url__startswith="https://example.org/synthetic")
    assert not Enrollment.objects.exclude(source__in=synthetic_sources).exists()


def test_generated_data_keeps_the_participating_rule_and_has_timelines():
    generate(200)
    assert not Enrollment.objects.participating().filter(pk__in=Enrollment.objects.incomplete()).exists()
    # Every enrollment answers each of the PSP's three requirements and has a timeline that ends
    # in its current status.
    assert set(Enrollment.objects.annotate(n=Count("certifications")).values_list("n", flat=True)) == {3}
    for enrollment in Enrollment.objects.prefetch_related("status_changes"):
        latest = max(enrollment.status_changes.all(), key=lambda c: c.changed_at)
        assert latest.to_status == enrollment.status
    assert not Certification.objects.filter(answer="not_applicable", facility_operator="").exists()


def test_it_refuses_a_database_holding_real_jurisdictions():
    JurisdictionFactory(name="Memphis")
    with pytest.raises(CommandError, match="holds 1 real \\(non-synthetic\\) jurisdiction"):
        generate(10)
    assert list(Jurisdiction.objects.values_list("slug", flat=True)) == ["memphis-tn"]


def test_force_adds_synthetic_rows_next_to_real_ones():
    JurisdictionFactory(name="Memphis")
    generate(10, "--force")
    assert Jurisdiction.objects.count() == 11
    assert Jurisdiction.objects.filter(slug__startswith="synthetic-").count() == 10


def test_a_second_run_adds_more_without_clashing():
    generate(50)
    generate(50)
    assert Jurisdiction.objects.count() == 100
    assert Jurisdiction.objects.values("geoid").distinct().count() == 100


def test_the_same_seed_gives_the_same_data():
    generate(40, "--seed", "3")
    first = list(Jurisdiction.objects.order_by("geoid").values_list("name", "state", "kind"))
    statuses = list(Enrollment.objects.order_by("jurisdiction__geoid").values_list("status", flat=True))
    Jurisdiction.objects.all().delete()
    StatusChange.objects.all().delete()
    generate(40, "--seed", "3")
    again = list(Jurisdiction.objects.order_by("geoid").values_list("name", "state", "kind"))
    assert [(n.rsplit(" ", 1)[0], s, k) for n, s, k in again] == [
        (n.rsplit(" ", 1)[0], s, k) for n, s, k in first
    ]
    assert (
        list(Enrollment.objects.order_by("jurisdiction__geoid").values_list("status", flat=True)) == statuses
    )


def test_a_count_below_one_is_refused():
    with pytest.raises(CommandError, match="--count must be at least 1"):
        generate(0)
