"""The data version and the response cache: repeated reads cost nothing, a write is never read stale.

Each test runs in one transaction, so `committed` (Django's captureOnCommitCallbacks with execute)
stands for the commit: it runs the on-commit callbacks that the block registered, as a real commit
would. A test that truly committed would have to flush the database and the data migrations' rows
with it, which other tests need.
"""

import pytest
from django.db import transaction
from django.urls import reverse

from jurisdictions import services
from jurisdictions.cache import bump_data_version, data_version, has_uncommitted_writes
from jurisdictions.models import ImportJob, Jurisdiction
from jurisdictions.transfer.csvio import export_csv_text
from jurisdictions.transfer.importer import import_jurisdictions
from tests.factories import EnrollmentFactory, JurisdictionFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


LIST = reverse("jurisdictions:jurisdiction-list")


def detail(jurisdiction):
    return reverse("jurisdictions:jurisdiction-detail", kwargs={"slug": jurisdiction.slug})


def test_a_write_moves_the_data_version_on_at_commit(committed):
    before = data_version()
    with committed():
        JurisdictionFactory()
        assert has_uncommitted_writes()
        assert data_version() == before
    assert not has_uncommitted_writes()
    assert data_version().token != before.token


def test_a_rolled_back_write_leaves_the_version_alone(committed):
    before = data_version()
    with committed() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        JurisdictionFactory()
        raise RuntimeError("abandon")
    assert (callbacks, has_uncommitted_writes(), data_version()) == ([], False, before)


def test_a_transaction_registers_one_bump_however_many_rows_it_writes(committed):
    with committed() as callbacks:
        JurisdictionFactory.create_batch(5)
        Jurisdiction.objects.update(ocd_id="ocd-division/country:us")
    assert len(callbacks) == 1


def test_queryset_update_and_delete_move_the_version_on(committed):
    with committed():
        jurisdiction = JurisdictionFactory()
    before = data_version()
    with committed():
        Jurisdiction.objects.filter(pk=jurisdiction.pk).update(ocd_id="ocd-division/country:us")
    updated = data_version()
    assert updated.token != before.token
    with committed():
        Jurisdiction.objects.filter(pk=jurisdiction.pk).delete()
    assert data_version().token != updated.token


def test_reads_leave_the_version_alone(committed):
    with committed():
        JurisdictionFactory()
    before = data_version()
    with committed() as callbacks:
        list(Jurisdiction.objects.all())
    assert (callbacks, data_version()) == ([], before)


def test_recording_an_import_job_leaves_the_version_alone(committed):
    # An upload is bookkeeping, not data: it must not empty every cached page (reliability.py's
    # hostile-input phase posts files that are refused and checks that no data table changed).
    staff = StaffUserFactory()
    before = data_version()
    with committed() as callbacks:
        job = ImportJob.objects.create(uploaded_by=staff, filename="x.csv", content=b"name\n")
        ImportJob.objects.filter(pk=job.pk).update(filename="y.csv")
        ImportJob.objects.filter(pk=job.pk).delete()
    assert (callbacks, data_version()) == ([], before)


def test_two_versions_never_share_a_last_modified_second():
    first = bump_data_version()
    second = bump_data_version()
    assert second.modified > first.modified


def test_a_repeated_read_of_a_public_page_costs_only_the_version_query(
    client, committed, django_assert_num_queries
):
    with committed():
        EnrollmentFactory(jurisdiction=JurisdictionFactory(name="Memphis"), status="letter_sent")
    first = client.get(LIST)
    assert (first.status_code, first["X-Cache"]) == (200, "miss")
    with django_assert_num_queries(1):
        again = client.get(LIST)
    assert (again.status_code, again["X-Cache"]) == (200, "hit")
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]
    assert again["Last-Modified"] == first["Last-Modified"]


@pytest.mark.parametrize("path", ["/api/v1/jurisdictions/", "/api/v1/jurisdictions/memphis-tn/"])
def test_a_repeated_api_read_costs_only_the_version_query(client, committed, django_assert_num_queries, path):
    with committed():
        EnrollmentFactory(jurisdiction=JurisdictionFactory(name="Memphis"), status="letter_sent")
    first = client.get(path)
    assert (first.status_code, first["X-Cache"]) == (200, "miss")
    with django_assert_num_queries(1):
        again = client.get(path)
    assert (again.status_code, again["X-Cache"], again.json()) == (200, "hit", first.json())
    assert (again["ETag"], again["Last-Modified"]) == (first["ETag"], first["Last-Modified"])
    with django_assert_num_queries(1):
        assert client.get(path, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_a_client_holding_the_current_etag_gets_a_304_after_only_the_version_query(
    client, committed, django_assert_num_queries
):
    with committed():
        jurisdiction = JurisdictionFactory(name="Memphis")
    etag = client.get(detail(jurisdiction))["ETag"]
    with django_assert_num_queries(1):
        response = client.get(detail(jurisdiction), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304


def test_an_admin_write_makes_the_next_read_fresh(client, admin_client, committed):
    with committed():
        jurisdiction = JurisdictionFactory(name="Memphis", geoid="4748000")
    assert b"Memphis City" not in client.get(detail(jurisdiction)).content
    api = client.get(f"/api/v1/jurisdictions/{jurisdiction.slug}/")
    assert api.json()["name"] == "Memphis"

    with committed():
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
    assert not has_uncommitted_writes()
    assert b"Memphis City" in client.get(detail(jurisdiction)).content
    fresh = client.get(f"/api/v1/jurisdictions/{jurisdiction.slug}/", HTTP_IF_NONE_MATCH=api["ETag"])
    assert (fresh.status_code, fresh["X-Cache"], fresh.json()["name"]) == (200, "miss", "Memphis City")


def test_a_service_write_makes_the_next_read_fresh(client, staff_user, committed):
    with committed():
        enrollment = EnrollmentFactory(jurisdiction=JurisdictionFactory(name="Stockton", state="CA"))
    page = detail(enrollment.jurisdiction)
    api = f"/api/v1/jurisdictions/{enrollment.jurisdiction.slug}/"
    assert b"Letter sent" not in client.get(page).content
    assert client.get(api).json()["enrollments"][0]["status"] == "pending"
    with committed():
        services.enrollment_set_status(
            enrollment=enrollment, status="letter_sent", user=staff_user, via="admin", letter_sent_on=None
        )
    assert b"Letter sent" in client.get(page).content
    assert client.get(api).json()["enrollments"][0]["status"] == "letter_sent"


def test_an_import_makes_the_next_read_fresh(client, committed):
    with committed():
        EnrollmentFactory(jurisdiction=JurisdictionFactory(name="Stockton", state="CA"), status="pending")
    exported = export_csv_text(Jurisdiction.objects.all())
    assert b"Stockton City" not in client.get(LIST).content
    assert client.get("/api/v1/jurisdictions/").json()["results"][0]["name"] == "Stockton"
    with committed():
        report = import_jurisdictions(
            exported.replace("Stockton", "Stockton City").encode(), filename="x.csv"
        )
    assert (report.ok, report.applied, report.summary()) == (True, True, "0 new, 1 changed, 0 unchanged")
    assert b"Stockton City" in client.get(LIST).content
    assert client.get("/api/v1/jurisdictions/").json()["results"][0]["name"] == "Stockton City"


def test_a_refused_import_leaves_the_cache_in_place(client, committed):
    with committed():
        JurisdictionFactory(name="Stockton", state="CA")
    client.get(LIST)
    before = data_version()
    with committed():
        report = import_jurisdictions(b"name,state,kind\nNowhere,ZZ,city\n", filename="bad.csv")
    assert not report.ok
    assert data_version() == before
    assert client.get(LIST)["X-Cache"] == "hit"


def test_a_read_inside_a_transaction_that_wrote_bypasses_the_cache(client, committed):
    with committed():
        JurisdictionFactory(name="Stockton", state="CA")
    assert client.get(LIST)["X-Cache"] == "miss"
    JurisdictionFactory(name="Modesto", state="CA")  # not committed yet
    response = client.get(LIST)
    assert not response.has_header("X-Cache")
    assert b"Modesto" in response.content


def test_an_api_write_makes_the_next_read_fresh(client, committed):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from tests.factories import StaffUserFactory

    with committed():
        enrollment = EnrollmentFactory(jurisdiction=JurisdictionFactory(name="Stockton", state="CA"))
        editor = APIClient()
        token = Token.objects.create(user=StaffUserFactory(groups=["Editor"]))
        editor.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    detail_api = f"/api/v1/jurisdictions/{enrollment.jurisdiction.slug}/"
    hold = enrollment.certifications.get(requirement__code="hold_request")
    assert client.get(detail_api).json()["enrollments"][0]["certifications"][2]["answer"] == "unknown"
    assert client.get(detail_api)["X-Cache"] == "hit"
    with committed():
        etag = editor.get(f"/api/v1/certifications/{hold.pk}/", HTTP_ACCEPT="application/json")["ETag"]
        response = editor.patch(
            f"/api/v1/certifications/{hold.pk}/", {"answer": "no"}, format="json", HTTP_IF_MATCH=etag
        )
    assert response.status_code == 200
    fresh = client.get(detail_api)
    assert (fresh["X-Cache"], fresh.json()["enrollments"][0]["certifications"][2]["answer"]) == ("miss", "no")
