import pytest
from django.urls import reverse

from jurisdictions.models import Enrollment, Jurisdiction, StatusChange
from tests.factories import EnrollmentFactory, JurisdictionFactory, SourceFactory

pytestmark = pytest.mark.django_db


def inline_data(enrollment, answers, **fields):
    """POST data for the enrollment change form, with its answer and history inlines."""
    certifications = list(enrollment.certifications.order_by("requirement__order"))
    data = {
        "status": enrollment.status,
        "site_type": enrollment.site_type,
        "letter_sent_on": enrollment.letter_sent_on or "",
        "response_due_on": enrollment.response_due_on or "",
        "joined_on": enrollment.joined_on or "",
        "notes": enrollment.notes,
        "source": enrollment.source_id or "",
        "opened_version": enrollment.version,
        "certifications-TOTAL_FORMS": len(certifications),
        "certifications-INITIAL_FORMS": len(certifications),
        "certifications-MIN_NUM_FORMS": 0,
        "certifications-MAX_NUM_FORMS": 1000,
        "status_changes-TOTAL_FORMS": 0,
        "status_changes-INITIAL_FORMS": 0,
        "status_changes-MIN_NUM_FORMS": 0,
        "status_changes-MAX_NUM_FORMS": 1000,
    }
    for i, c in enumerate(certifications):
        data.update(
            {
                f"certifications-{i}-id": c.pk,
                f"certifications-{i}-enrollment": enrollment.pk,
                f"certifications-{i}-answer": answers.get(c.requirement.code, c.answer),
                f"certifications-{i}-facility_operator": "",
                f"certifications-{i}-legal_basis": "policy",
                f"certifications-{i}-citation": "Policy 12",
                f"certifications-{i}-evidence_url": "",
                f"certifications-{i}-certified_by": "Chief of Police",
                f"certifications-{i}-certified_on": "2017-09-01",
                f"certifications-{i}-source": "",
                f"certifications-{i}-opened_version": c.version,
            }
        )
    data.update(fields)
    return data


@pytest.mark.parametrize(
    "name",
    ["jurisdiction", "enrollment", "program", "source"],
)
def test_superuser_can_open_each_list_and_add_page(admin_client, name):
    EnrollmentFactory(status="participating", source=SourceFactory())
    assert admin_client.get(reverse(f"admin:jurisdictions_{name}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:jurisdictions_{name}_add")).status_code == 200


def test_enrollment_page_shows_answers_and_status_history(admin_client):
    enrollment = EnrollmentFactory(status="letter_sent")
    StatusChange.objects.create(
        enrollment=enrollment, from_status="", to_status="letter_sent", note="Letter of 3 August"
    )
    response = admin_client.get(reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "DHS access to correctional and detention facilities" in content
    assert "Letter of 3 August" in content


def test_admin_refuses_participating_while_an_answer_is_not_yes(admin_client):
    enrollment = EnrollmentFactory(status="letter_sent")
    url = reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk])
    data = inline_data(
        enrollment, {"facility_access": "yes", "release_notice": "yes"}, status="participating"
    )
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "not yet: hold_request" in response.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.status == "letter_sent"
    assert not StatusChange.objects.exists()


def test_admin_admits_with_every_answer_yes_and_records_the_staff_user(admin_client, admin_user):
    enrollment = EnrollmentFactory(status="letter_sent")
    url = reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk])
    yes = dict.fromkeys(("facility_access", "release_notice", "hold_request"), "yes")
    response = admin_client.post(
        url, inline_data(enrollment, yes, status="participating", joined_on="2017-10-02")
    )
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.status == "participating"
    assert set(enrollment.certifications.values_list("answer", flat=True)) == {"yes"}
    change = StatusChange.objects.get()
    assert (change.from_status, change.to_status, change.changed_by, change.via) == (
        "letter_sent",
        "participating",
        admin_user,
        "admin",
    )


def test_admin_refuses_to_drop_an_answer_of_a_participating_enrollment(admin_client):
    enrollment = EnrollmentFactory(status="participating")
    url = reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk])
    response = admin_client.post(url, inline_data(enrollment, {"release_notice": "no"}))
    assert "not yet: release_notice" in response.content.decode()
    assert enrollment.certifications.get(requirement__code="release_notice").answer == "yes"


def test_admin_creates_an_enrollment_with_one_unknown_answer_per_requirement(admin_client, psp):
    jurisdiction = JurisdictionFactory()
    response = admin_client.post(
        reverse("admin:jurisdictions_enrollment_add"),
        {"jurisdiction": jurisdiction.pk, "program": psp.pk, "status": "pending"},
    )
    assert response.status_code == 302
    enrollment = Enrollment.objects.get()
    assert sorted(enrollment.certifications.values_list("requirement__code", "answer")) == [
        ("facility_access", "unknown"),
        ("hold_request", "unknown"),
        ("release_notice", "unknown"),
    ]
    assert StatusChange.objects.get().to_status == "pending"


def test_admin_refuses_a_new_enrollment_that_starts_participating(admin_client, psp):
    jurisdiction = JurisdictionFactory()
    response = admin_client.post(
        reverse("admin:jurisdictions_enrollment_add"),
        {"jurisdiction": jurisdiction.pk, "program": psp.pk, "status": "participating"},
    )
    assert response.status_code == 200
    assert "not yet: facility_access, release_notice, hold_request" in response.content.decode()
    assert not Enrollment.objects.exists()


def test_admin_adds_a_jurisdiction_and_shows_plain_errors(admin_client):
    url = reverse("admin:jurisdictions_jurisdiction_add")
    ok = {
        "name": "Jackson",
        "state": "MS",
        "kind": "city",
        "slug": "jackson-ms",
        "geoid": "2836000",
        "ocd_id": "",
    }
    inline = {"enrollments-TOTAL_FORMS": 0, "enrollments-INITIAL_FORMS": 0}
    assert admin_client.post(url, ok | inline).status_code == 302
    assert Jurisdiction.objects.get().geoid == "2836000"
    response = admin_client.post(url, ok | inline | {"slug": "jackson-ms-2", "geoid": "28-36"})
    assert "A Census GEOID is 2 to 15 digits" in response.content.decode()


def test_admin_list_filters_by_state_and_incomplete_answers(admin_client):
    done = EnrollmentFactory(status="participating", jurisdiction=JurisdictionFactory(state="TN"))
    open_ = EnrollmentFactory(status="letter_sent", jurisdiction=JurisdictionFactory(state="CA"))
    url = reverse("admin:jurisdictions_enrollment_changelist")
    response = admin_client.get(url, {"answers": "incomplete"})
    assert [e.pk for e in response.context["cl"].result_list] == [open_.pk]
    response = admin_client.get(url, {"jurisdiction__state": "TN"})
    assert [e.pk for e in response.context["cl"].result_list] == [done.pk]
