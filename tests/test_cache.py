"""The data version and the response cache: repeated reads cost nothing, a write is never read stale.

These tests commit for real (transaction=True): the data version moves on after a commit, which a
test wrapped in one transaction would never reach.
"""

import pytest
from django.db import transaction
from django.urls import reverse

from jurisdictions import services
from jurisdictions.cache import bump_data_version, data_version, has_uncommitted_writes
from jurisdictions.csvio import export_csv_text
from jurisdictions.importer import import_jurisdictions
from jurisdictions.models import Enrollment, Jurisdiction
from tests.factories import EnrollmentFactory, JurisdictionFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LIST = reverse("jurisdictions:jurisdiction-list")


def detail(jurisdiction):
    return reverse("jurisdictions:jurisdiction-detail", kwargs={"slug": jurisdiction.slug})


def test_a_committed_write_moves_the_data_version_on():
    before = data_version()
    JurisdictionFactory()
    assert data_version().token != before.token


def test_a_write_inside_a_transaction_moves_the_version_at_commit():
    before = data_version()
    with transaction.atomic():
        JurisdictionFactory()
        assert has_uncommitted_writes()
        assert data_version() == before
    assert not has_uncommitted_writes()
    assert data_version().token != before.token


def test_a_rolled_back_write_leaves_the_version_alone():
    before = data_version()
    with pytest.raises(RuntimeError), transaction.atomic():
        JurisdictionFactory()
        raise RuntimeError("abandon")
    assert data_version() == before


def test_queryset_update_and_delete_move_the_version_on():
    jurisdiction = JurisdictionFactory()
    before = data_version()
    Jurisdiction.objects.filter(pk=jurisdiction.pk).update(ocd_id="ocd-division/country:us")
    updated = data_version()
    assert updated.token != before.token
    Jurisdiction.objects.filter(pk=jurisdiction.pk).delete()
    assert data_version().token != updated.token


def test_reads_leave_the_version_alone():
    JurisdictionFactory()
    before = data_version()
    list(Jurisdiction.objects.all())
    assert data_version() == before


def test_two_versions_never_share_a_last_modified_second():
    first = bump_data_version()
    second = bump_data_version()
    assert second.modified > first.modified


def test_a_repeated_read_of_a_public_page_touches_no_database(client, django_assert_num_queries):
    EnrollmentFactory(jurisdiction=JurisdictionFactory(name="Memphis"), status="letter_sent")
    first = client.get(LIST)
    assert (first.status_code, first["X-Cache"]) == (200, "miss")
    with django_assert_num_queries(0):
        again = client.get(LIST)
    assert (again.status_code, again["X-Cache"]) == (200, "hit")
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]
    assert again["Last-Modified"] == first["Last-Modified"]


def test_a_client_holding_the_current_etag_gets_a_304_without_the_database(client, django_assert_num_queries):
    jurisdiction = JurisdictionFactory(name="Memphis")
    etag = client.get(detail(jurisdiction))["ETag"]
    with django_assert_num_queries(0):
        response = client.get(detail(jurisdiction), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304


def test_an_admin_write_makes_the_next_read_fresh(client, admin_client):
    jurisdiction = JurisdictionFactory(name="Memphis", geoid="4748000")
    assert b"Memphis City" not in client.get(detail(jurisdiction)).content
    etag = client.get(LIST)["ETag"]

    response = admin_client.post(
        reverse("admin:jurisdictions_jurisdiction_change", args=[jurisdiction.pk]),
        {
            "name": "Memphis City",
            "state": "TN",
            "kind": "city",
            "slug": jurisdiction.slug,
            "geoid": "4748000",
            "ocd_id": "",
            "opened_version": 1,
            "enrollments-TOTAL_FORMS": 0,
            "enrollments-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302
    assert b"Memphis City" in client.get(detail(jurisdiction)).content
    fresh = client.get(LIST, HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200
    assert b"Memphis City" in fresh.content


def test_a_service_write_makes_the_next_read_fresh(client, staff_user):
    enrollment = EnrollmentFactory(jurisdiction=JurisdictionFactory(name="Stockton", state="CA"))
    page = detail(enrollment.jurisdiction)
    assert b"Letter sent" not in client.get(page).content
    services.enrollment_set_status(
        enrollment=enrollment, status="letter_sent", user=staff_user, via="admin", letter_sent_on=None
    )
    assert Enrollment.objects.get().status == "letter_sent"
    assert b"Letter sent" in client.get(page).content


def test_an_import_makes_the_next_read_fresh(client):
    EnrollmentFactory(jurisdiction=JurisdictionFactory(name="Stockton", state="CA"), status="pending")
    exported = export_csv_text(Jurisdiction.objects.all())
    assert b"Stockton City" not in client.get(LIST).content
    report = import_jurisdictions(exported.replace("Stockton", "Stockton City").encode(), filename="x.csv")
    assert (report.ok, report.applied, report.summary()) == (True, True, "0 new, 1 changed, 0 unchanged")
    assert b"Stockton City" in client.get(LIST).content


def test_a_refused_import_leaves_the_cache_in_place(client):
    JurisdictionFactory(name="Stockton", state="CA")
    client.get(LIST)
    before = data_version()
    report = import_jurisdictions(b"name,state,kind\nNowhere,ZZ,city\n", filename="bad.csv")
    assert not report.ok
    assert data_version() == before
    assert client.get(LIST)["X-Cache"] == "hit"
