"""The admin's CSV import page: upload, preview (nothing written), confirm (all or nothing)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jurisdictions import admin as jurisdictions_admin
from jurisdictions.models import Certification, Enrollment, Jurisdiction, StatusChange
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
    response = reviewer_client.post(reverse(URL), {"file": csv_file(MEMPHIS, STOCKTON, other)})
    assert response.status_code == 200
    report = response.context["report"]
    assert [(r.line, r.slug, r.action) for r in report.rows] == [
        (2, "memphis-tn", "changed"),
        (3, "stockton-ca", "changed"),
        (4, "baltimore-md", "new"),
    ]
    assert report.rows[0].changes == ["source"]
    content = response.content.decode()
    assert "0 new" not in content and "1 new, 2 changed, 0 unchanged" in content
    assert 'name="confirm"' in content
    assert counts() == before
    assert not Jurisdiction.objects.filter(slug="baltimore-md").exists()


def test_an_unchanged_row_is_reported_unchanged(reviewer_client):
    reviewer_client.post(reverse(URL), {"file": csv_file(STOCKTON)})
    token = reviewer_client.session[jurisdictions_admin.IMPORT_SESSION_KEY]["token"]
    reviewer_client.post(reverse(URL), {"confirm": "1", "token": token})
    response = reviewer_client.post(reverse(URL), {"file": csv_file(STOCKTON)})
    assert [(r.line, r.action) for r in response.context["report"].rows] == [(2, "unchanged")]


def test_a_bad_file_shows_each_error_with_its_line_and_offers_no_confirm(reviewer_client):
    response = reviewer_client.post(reverse(URL), {"file": csv_file(STOCKTON, BAD_STATE, BAD_ANSWER)})
    assert response.status_code == 200
    errors = [(e.line, e.column) for e in response.context["report"].errors]
    assert errors == [(3, "state"), (4, "status")]
    content = response.content.decode()
    assert "“XX” is not a USPS state or territory code" in content
    assert "1 requirement is not yet: “At least 48 hours&#x27; notice of a release" in content
    assert 'name="confirm"' not in content
    assert jurisdictions_admin.IMPORT_SESSION_KEY not in reviewer_client.session
    assert counts() == (0, 0, 0)


def test_confirm_applies_the_previewed_file_with_the_staff_user_and_the_import_door(reviewer_client):
    reviewer_client.post(reverse(URL), {"file": csv_file(MEMPHIS, STOCKTON)})
    token = reviewer_client.session[jurisdictions_admin.IMPORT_SESSION_KEY]["token"]
    response = reviewer_client.post(reverse(URL), {"confirm": "1", "token": token})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:jurisdictions_jurisdiction_changelist")
    assert sorted(Enrollment.objects.values_list("jurisdiction__slug", "status")) == [
        ("memphis-tn", "participating"),
        ("stockton-ca", "letter_sent"),
    ]
    assert {(s.changed_by, s.via) for s in StatusChange.objects.all()} == {(reviewer_client.user, "import")}
    histories = [*Jurisdiction.history.all(), *Enrollment.history.all(), *Certification.history.all()]
    assert {(h.history_user, h.history_via) for h in histories} == {(reviewer_client.user, "import")}
    assert jurisdictions_admin.IMPORT_SESSION_KEY not in reviewer_client.session


def test_a_missing_or_stale_upload_is_refused_with_a_clear_message(reviewer_client):
    response = reviewer_client.post(reverse(URL), {"confirm": "1", "token": "nothing-uploaded"}, follow=True)
    assert "The uploaded file is no longer available" in response.content.decode()
    reviewer_client.post(reverse(URL), {"file": csv_file(STOCKTON)})
    old = reviewer_client.session[jurisdictions_admin.IMPORT_SESSION_KEY]["token"]
    reviewer_client.post(reverse(URL), {"file": csv_file(MEMPHIS)})  # replaces the first upload
    response = reviewer_client.post(reverse(URL), {"confirm": "1", "token": old}, follow=True)
    assert "The uploaded file is no longer available" in response.content.decode()
    assert counts() == (0, 0, 0)


def test_confirm_shows_a_new_preview_when_the_data_changed_since_the_preview(reviewer_client):
    reviewer_client.post(reverse(URL), {"file": csv_file(STOCKTON)})
    token = reviewer_client.session[jurisdictions_admin.IMPORT_SESSION_KEY]["token"]
    JurisdictionFactory(name="Stockton", state="CA", geoid="0675000")  # someone else, meanwhile
    response = reviewer_client.post(reverse(URL), {"confirm": "1", "token": token})
    assert response.status_code == 200
    assert "The data changed since the preview was made" in response.content.decode()
    assert [r.action for r in response.context["report"].rows] == ["changed"]
    assert Enrollment.objects.count() == 0
    response = reviewer_client.post(reverse(URL), {"confirm": "1", "token": token})
    assert response.status_code == 302
    assert Enrollment.objects.get().jurisdiction.slug == "stockton-ca"


def test_confirm_writes_nothing_when_a_row_turned_bad_after_the_preview(reviewer_client):
    reviewer_client.post(
        reverse(URL), {"file": csv_file(STOCKTON, ",Memphis,TN,city,4748000,,,,,,,,,,,,,,,")}
    )
    token = reviewer_client.session[jurisdictions_admin.IMPORT_SESSION_KEY]["token"]
    JurisdictionFactory(name="Elsewhere", state="TN", geoid="4748000")  # takes Memphis's GEOID meanwhile
    response = reviewer_client.post(reverse(URL), {"confirm": "1", "token": token})
    assert response.status_code == 200
    assert [(e.line, e.column) for e in response.context["report"].errors] == [(3, "geoid")]
    assert counts() == (1, 0, 0)


def test_a_file_over_the_size_cap_is_refused_before_reading(reviewer_client, monkeypatch):
    big = SimpleUploadedFile("big.csv", b"x" * (jurisdictions_admin.IMPORT_MAX_BYTES + 1))
    response = reviewer_client.post(reverse(URL), {"file": big})
    assert response.status_code == 200
    assert "the admin imports files up to 2 MB" in response.content.decode()
    assert "report" not in response.context


def test_a_file_that_is_not_utf8_is_an_error_not_a_crash(reviewer_client):
    upload = SimpleUploadedFile(
        "latin1.csv", (HEADER + "\n,Añasco,PR,city,,,,,,,,,,,,,,,,\n").encode("latin-1")
    )
    response = reviewer_client.post(reverse(URL), {"file": upload})
    assert response.status_code == 200
    assert "The file is not UTF-8 text" in response.content.decode()


def test_an_editor_imports_letters_but_not_participating_rows(editor_client):
    response = editor_client.post(reverse(URL), {"file": csv_file(MEMPHIS, STOCKTON)})
    assert [(e.line, e.column, e.message) for e in response.context["report"].errors] == [
        (2, "status", "Only reviewers can set an enrollment to participating; ask a reviewer to admit it.")
    ]
    response = editor_client.post(reverse(URL), {"file": csv_file(STOCKTON)})
    token = editor_client.session[jurisdictions_admin.IMPORT_SESSION_KEY]["token"]
    assert editor_client.post(reverse(URL), {"confirm": "1", "token": token}).status_code == 302
    assert Enrollment.objects.get().status == "letter_sent"


def test_an_editor_may_reimport_a_row_that_is_already_participating(editor_client):
    EnrollmentFactory(
        status="participating",
        jurisdiction=JurisdictionFactory(name="Memphis", state="TN", geoid="4748000"),
    )
    response = editor_client.post(reverse(URL), {"file": csv_file(MEMPHIS)})
    assert response.context["report"].errors == []


def test_staff_without_add_and_change_permissions_cannot_import(client):
    viewer = StaffUserFactory()
    client.force_login(viewer)
    assert client.get(reverse(URL)).status_code == 403
    assert client.post(reverse(URL), {"file": csv_file(STOCKTON)}).status_code == 403
    assert counts() == (0, 0, 0)


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
    reviewer_client.post(reverse(URL), {"file": csv_file(STOCKTON)})
    token = reviewer_client.session[jurisdictions_admin.IMPORT_SESSION_KEY]["token"]
    reviewer_client.post(reverse(URL), {"confirm": "1", "token": token})
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.version) == ("letter_sent", 2)

    url = reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk])
    response = reviewer_client.post(url, form_data)
    assert "This enrollment was changed by" in response.content.decode()
    assert "(through import)" in response.content.decode()
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.notes) == ("letter_sent", "")
