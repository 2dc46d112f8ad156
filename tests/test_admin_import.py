"""The admin's CSV import page: upload, preview (nothing written), confirm (all or nothing).

A small file (up to ADMIN_IMPORT_INLINE_MAX_ROWS lines) is previewed and applied in the request,
through the same import job as a large one; the worker's side is tests/test_admin_import_worker.py.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from jurisdictions import admin as jurisdictions_admin
from jurisdictions.models import Certification, Enrollment, ImportJob, Jurisdiction, StatusChange
from tests.factories import EnrollmentFactory, JurisdictionFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

URL = "admin:jurisdictions_jurisdiction_import"
HEADER = (
    "slug,name,state,kind,geoid,ocd_id,program,status,site_type,letter_sent_on,response_due_on,joined_on,"
    "facility_access,release_notice,hold_request,notes,source_title,source_publisher,source_url,source_date"
)
MEMPHIS = ",Memphis,TN,city,4748000,,psp,participating,operations,,,2017-06-20,yes,yes,yes,,Seed,,,"
STOCKTON = ",Stockton,CA,city,0675000,,psp,letter_sent,,2017-08-03,2017-08-18,,,,,,Seed,,,"
BAD_STATE = ",Springfield,XX,city,,,psp,pending,,,,,,,,,,,,"
BAD_ANSWER = ",Jackson,MS,city,,,psp,participating,,,,2017-06-20,yes,no,yes,,,,,"


def csv_file(*rows, name="cities.csv"):
    return SimpleUploadedFile(name, ("\n".join([HEADER, *rows]) + "\n").encode(), content_type="text/csv")


def upload(client, *rows, name="cities.csv"):
    """Upload a file; the response is the job's page, after the redirect."""
    response = client.post(reverse(URL), {"file": csv_file(*rows, name=name)})
    assert response.status_code == 302, response.content.decode()[:500]
    return client.get(response["Location"])


def confirm(client, job, fingerprint=None):
    job.refresh_from_db()
    return client.post(
        job.get_absolute_url(), {"confirm": "1", "fingerprint": fingerprint or job.fingerprint}
    )


def counts():
    return (Jurisdiction.objects.count(), Enrollment.objects.count(), StatusChange.objects.count())


@pytest.fixture
def reviewer_client(client):
    user = StaffUserFactory(groups=["Reviewer"])
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def editor_client(client):
    user = StaffUserFactory(groups=["Editor"])
    client.force_login(user)
    client.user = user
    return client


def test_the_jurisdiction_list_links_to_the_import_page(reviewer_client):
    response = reviewer_client.get(reverse("admin:jurisdictions_jurisdiction_changelist"))
    assert reverse(URL) in response.content.decode()


def test_preview_lists_new_changed_and_unchanged_rows_and_writes_nothing(reviewer_client):
    memphis = EnrollmentFactory(
        status="participating",
        jurisdiction=JurisdictionFactory(name="Memphis", state="TN", geoid="4748000"),
        site_type="operations",
    )
    memphis.joined_on = "2017-06-20"
    memphis.save()
    JurisdictionFactory(name="Stockton", state="CA", geoid="0675000")
    other = ",Baltimore,MD,city,2404000,,,,,,,,,,,,,,,"
    before = counts()
    response = upload(reviewer_client, MEMPHIS, STOCKTON, other)
    assert response.status_code == 200
    job = response.context["job"]
    assert (job.state, job.in_worker, job.uploaded_by) == ("previewed", False, reviewer_client.user)
    assert [(line, slug, action) for line, slug, _, action, _ in job.rows] == [
        (2, "memphis-tn", "changed"),
        (3, "stockton-ca", "changed"),
        (4, "baltimore-md", "new"),
    ]
    assert job.rows[0][4] == ["source"]
    content = response.content.decode()
    assert "0 new" not in content and "1 new, 2 changed, 0 unchanged" in content
    assert 'name="confirm"' in content
    assert 'http-equiv="refresh"' not in content  # nothing is running
    assert counts() == before
    assert not Jurisdiction.objects.filter(slug="baltimore-md").exists()


def test_an_unchanged_row_is_reported_unchanged(reviewer_client):
    confirm(reviewer_client, upload(reviewer_client, STOCKTON).context["job"])
    response = upload(reviewer_client, STOCKTON)
    assert [(line, action) for line, _, _, action, _ in response.context["job"].rows] == [(2, "unchanged")]


def test_a_bad_file_shows_each_error_with_its_line_and_offers_no_confirm(reviewer_client):
    response = upload(reviewer_client, STOCKTON, BAD_STATE, BAD_ANSWER)
    assert response.status_code == 200
    job = response.context["job"]
    assert job.state == "failed"
    assert [(line, column) for line, column, _ in job.errors] == [(3, "state"), (4, "status")]
    content = response.content.decode()
    assert "“XX” is not a USPS state or territory code" in content
    assert "1 requirement is not yet: “At least 48 hours&#x27; notice of a release" in content
    assert 'name="confirm"' not in content
    assert confirm(reviewer_client, job).status_code == 302  # refused, with a message
    assert counts() == (0, 0, 0)


def test_confirm_applies_the_previewed_file_with_the_staff_user_and_the_import_door(reviewer_client):
    job = upload(reviewer_client, MEMPHIS, STOCKTON).context["job"]
    response = confirm(reviewer_client, job)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:jurisdictions_jurisdiction_changelist")
    assert sorted(Enrollment.objects.values_list("jurisdiction__slug", "status")) == [
        ("memphis-tn", "participating"),
        ("stockton-ca", "letter_sent"),
    ]
    assert {(s.changed_by, s.via) for s in StatusChange.objects.all()} == {(reviewer_client.user, "import")}
    histories = [*Jurisdiction.history.all(), *Enrollment.history.all(), *Certification.history.all()]
    assert {(h.history_user, h.history_via) for h in histories} == {(reviewer_client.user, "import")}
    job.refresh_from_db()
    assert (job.state, job.counts) == ("done", {"new": 2, "changed": 0, "unchanged": 0})


def test_a_job_is_confirmed_once_by_its_uploader_and_only_from_the_preview_they_saw(reviewer_client):
    job = upload(reviewer_client, STOCKTON).context["job"]
    response = confirm(reviewer_client, job, fingerprint="an-older-preview")
    assert (
        "The preview changed since you loaded the page"
        in reviewer_client.get(response["Location"]).content.decode()
    )
    assert counts() == (0, 0, 0)
    client = Client()
    client.force_login(StaffUserFactory(groups=["Reviewer"]))
    assert client.get(job.get_absolute_url()).status_code == 404  # someone else's upload
    assert client.post(job.get_absolute_url(), {"fingerprint": job.fingerprint}).status_code == 404
    assert confirm(reviewer_client, job).status_code == 302
    response = confirm(reviewer_client, job)  # a second click
    assert "it cannot be confirmed now" in reviewer_client.get(response["Location"]).content.decode()
    assert StatusChange.objects.count() == 1


def test_confirm_shows_a_new_preview_when_the_data_changed_since_the_preview(reviewer_client):
    job = upload(reviewer_client, STOCKTON).context["job"]
    JurisdictionFactory(name="Stockton", state="CA", geoid="0675000")  # someone else, meanwhile
    response = confirm(reviewer_client, job)
    assert response["Location"] == job.get_absolute_url()
    response = reviewer_client.get(response["Location"])
    assert "The data changed since the preview was made" in response.content.decode()
    job = response.context["job"]
    assert (job.state, [row[3] for row in job.rows]) == ("previewed", ["changed"])
    assert Enrollment.objects.count() == 0
    response = confirm(reviewer_client, job)
    assert response.status_code == 302
    assert Enrollment.objects.get().jurisdiction.slug == "stockton-ca"


def test_confirm_writes_nothing_when_a_row_turned_bad_after_the_preview(reviewer_client):
    job = upload(reviewer_client, STOCKTON, ",Memphis,TN,city,4748000,,,,,,,,,,,,,,,").context["job"]
    JurisdictionFactory(name="Elsewhere", state="TN", geoid="4748000")  # takes Memphis's GEOID meanwhile
    response = reviewer_client.get(confirm(reviewer_client, job)["Location"])
    job = response.context["job"]
    assert job.state == "failed"
    assert [(line, column) for line, column, _ in job.errors] == [(3, "geoid")]
    assert counts() == (1, 0, 0)


def test_a_file_over_the_size_cap_is_refused_before_reading(reviewer_client, monkeypatch):
    big = SimpleUploadedFile("big.csv", b"x" * (jurisdictions_admin.IMPORT_MAX_BYTES + 1))
    response = reviewer_client.post(reverse(URL), {"file": big})
    assert response.status_code == 200
    assert "the admin imports files up to 50 MB" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_file_that_is_not_utf8_is_an_error_not_a_crash(reviewer_client):
    upload = SimpleUploadedFile(
        "latin1.csv", (HEADER + "\n,Añasco,PR,city,,,,,,,,,,,,,,,,\n").encode("latin-1")
    )
    response = reviewer_client.post(reverse(URL), {"file": upload}, follow=True)
    assert response.status_code == 200
    assert response.context["job"].state == "failed"
    assert "The file is not UTF-8 text" in response.content.decode()


def test_an_editor_imports_letters_but_not_participating_rows(editor_client):
    response = upload(editor_client, MEMPHIS, STOCKTON)
    assert response.context["job"].errors == [
        [2, "status", "Only reviewers can set an enrollment to participating; ask a reviewer to admit it."]
    ]
    response = upload(editor_client, STOCKTON)
    assert confirm(editor_client, response.context["job"])["Location"] == reverse(
        "admin:jurisdictions_jurisdiction_changelist"
    )
    assert Enrollment.objects.get().status == "letter_sent"


def test_an_editor_may_reimport_a_row_that_is_already_participating(editor_client):
    EnrollmentFactory(
        status="participating",
        jurisdiction=JurisdictionFactory(name="Memphis", state="TN", geoid="4748000"),
    )
    response = upload(editor_client, MEMPHIS)
    assert (response.context["job"].state, response.context["job"].errors) == ("previewed", [])


def test_staff_without_add_and_change_permissions_cannot_import(client):
    viewer = StaffUserFactory()
    client.force_login(viewer)
    assert client.get(reverse(URL)).status_code == 403
    assert client.post(reverse(URL), {"file": csv_file(STOCKTON)}).status_code == 403
    assert counts() == (0, 0, 0)
    assert not ImportJob.objects.exists()


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(reverse(URL))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_an_import_raises_versions_so_a_form_opened_before_it_is_refused(reviewer_client):
    from tests.test_admin import inline_data

    enrollment = EnrollmentFactory(
        status="pending", jurisdiction=JurisdictionFactory(name="Stockton", state="CA", geoid="0675000")
    )
    form_data = inline_data(enrollment, {}, notes="Typed before the import")
    confirm(reviewer_client, upload(reviewer_client, STOCKTON).context["job"])
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.version) == ("letter_sent", 2)

    url = reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk])
    response = reviewer_client.post(url, form_data)
    assert "This enrollment was changed by" in response.content.decode()
    assert "(through import)" in response.content.decode()
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.notes) == ("letter_sent", "")
