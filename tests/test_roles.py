"""Roles: editors enter data and move status to pending or letter_sent; reviewers also admit."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from jurisdictions.models import Enrollment, StatusChange
from tests.factories import EnrollmentFactory, JurisdictionFactory, StaffUserFactory
from tests.test_admin import inline_data

pytestmark = pytest.mark.django_db

EDITOR_PERMISSIONS = sorted(
    [
        f"{action}_{model}"
        for model in ("jurisdiction", "enrollment", "certification", "source")
        for action in ("add", "change", "view")
    ]
    + ["view_program", "view_requirement", "view_statuschange"]
    # Reference places, for the jurisdiction form's autocomplete (geography migration 0002).
    + ["view_place", "view_state"]
    # Issue 14 (migration 0012): both roles work the queue of error reports.
    + ["change_errorreport", "view_errorreport"]
)
YES = dict.fromkeys(("facility_access", "release_notice", "hold_request"), "yes")


def login(client, *groups):
    user = StaffUserFactory(groups=list(groups))
    client.force_login(user)
    return user


def test_the_data_migration_creates_the_editor_and_reviewer_groups():
    editor = Group.objects.get(name="Editor")
    reviewer = Group.objects.get(name="Reviewer")
    assert sorted(editor.permissions.values_list("codename", flat=True)) == EDITOR_PERMISSIONS
    assert sorted(reviewer.permissions.values_list("codename", flat=True)) == sorted(
        EDITOR_PERMISSIONS + ["admit_enrollment"]
    )


def test_an_editor_cannot_set_participating_in_the_change_form(client):
    login(client, "Editor")
    enrollment = EnrollmentFactory(status="letter_sent")
    url = reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk])
    response = client.post(url, inline_data(enrollment, YES, status="participating"))
    assert response.status_code == 200
    assert "Only reviewers can set an enrollment to participating" in response.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.status == "letter_sent"
    assert set(enrollment.certifications.values_list("answer", flat=True)) == {"unknown"}


def test_an_editor_certifies_answers_and_sends_letters(client):
    editor = login(client, "Editor")
    enrollment = EnrollmentFactory(status="pending")
    url = reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk])
    response = client.post(
        url, inline_data(enrollment, YES, status="letter_sent", letter_sent_on="2017-08-03")
    )
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.status == "letter_sent"
    assert set(enrollment.certifications.values_list("answer", flat=True)) == {"yes"}
    step = StatusChange.objects.get()
    assert (step.to_status, step.changed_by, step.via) == ("letter_sent", editor, "admin")


def test_an_editor_cannot_create_an_enrollment_as_participating(client, psp):
    login(client, "Editor")
    response = client.post(
        reverse("admin:jurisdictions_enrollment_add"),
        {"jurisdiction": JurisdictionFactory().pk, "program": psp.pk, "status": "participating"},
    )
    assert "Only reviewers can set an enrollment to participating" in response.content.decode()
    assert not Enrollment.objects.exists()


def test_a_reviewer_admits_in_the_change_form(client):
    reviewer = login(client, "Reviewer")
    enrollment = EnrollmentFactory(status="letter_sent")
    url = reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk])
    response = client.post(url, inline_data(enrollment, YES, status="participating", joined_on="2017-10-02"))
    assert response.status_code == 302
    step = StatusChange.objects.get()
    assert (step.to_status, step.changed_by, step.effective_on.isoformat()) == (
        "participating",
        reviewer,
        "2017-10-02",
    )


def test_the_admit_action_is_offered_to_reviewers_only(client):
    url = reverse("admin:jurisdictions_enrollment_changelist")
    login(client, "Editor")
    EnrollmentFactory()
    choices = [name for name, _ in client.get(url).context["action_form"].fields["action"].choices]
    assert choices == ["", "mark_letter_sent"]
    login(client, "Reviewer")
    choices = [name for name, _ in client.get(url).context["action_form"].fields["action"].choices]
    assert choices == ["", "mark_letter_sent", "admit"]


def test_an_editor_posting_the_admit_action_changes_nothing(client):
    login(client, "Editor")
    enrollment = EnrollmentFactory(status="letter_sent")
    enrollment.certifications.update(answer="yes")
    response = client.post(
        reverse("admin:jurisdictions_enrollment_changelist"),
        {"action": "admit", "_selected_action": [enrollment.pk]},
        follow=True,
    )
    assert response.status_code == 200
    enrollment.refresh_from_db()
    assert enrollment.status == "letter_sent"
    assert not StatusChange.objects.exists()


def test_an_editor_cannot_delete_or_change_programs(client, psp):
    login(client, "Editor")
    jurisdiction = JurisdictionFactory()
    assert (
        client.get(reverse("admin:jurisdictions_jurisdiction_delete", args=[jurisdiction.pk])).status_code
        == 403
    )
    response = client.post(reverse("admin:jurisdictions_program_change", args=[psp.pk]), {"name": "Changed"})
    assert response.status_code == 403
    psp.refresh_from_db()
    assert psp.name != "Changed"


def test_an_editor_cannot_restore_a_participating_enrollment(client):
    login(client, "Editor")
    enrollment = EnrollmentFactory(status="participating")
    pk = enrollment.pk
    enrollment.delete()
    response = client.post(reverse("admin:jurisdictions_enrollment_restore", args=[pk]), follow=True)
    assert "Nothing was restored: “Town" in response.content.decode()
    assert "only reviewers can restore it." in response.content.decode()
    assert not Enrollment.objects.exists()


def test_staff_without_a_role_cannot_open_an_enrollment(client):
    login(client)
    enrollment = EnrollmentFactory()
    assert (
        client.get(reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk])).status_code == 403
    )
