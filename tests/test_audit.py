"""The audit trail: every create, update and delete is recorded with who, when, through what door
and the values, whichever door the change came through."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from jurisdictions import services
from jurisdictions.audit import audit_context, current_via
from jurisdictions.models import (
    Certification,
    Enrollment,
    Jurisdiction,
    Program,
    Requirement,
    Source,
    StatusChange,
)
from tests.factories import EnrollmentFactory, JurisdictionFactory, SourceFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

AUDITED = [Jurisdiction, Enrollment, Certification, Program, Requirement, Source]


def stamps(model):
    return [(h.history_type, h.history_user, h.history_via) for h in model.history.order_by("history_id")]


@pytest.mark.parametrize("model", AUDITED, ids=lambda m: m.__name__)
def test_every_audited_model_keeps_history_with_the_door(model):
    fields = {f.name for f in model.history.model._meta.get_fields()}
    assert {"history_user", "history_date", "history_type", "history_via", "history_change_reason"} <= fields


def test_the_admin_door_records_creates_updates_and_deletes_with_the_staff_user(admin_client, admin_user):
    add = reverse("admin:jurisdictions_jurisdiction_add")
    inline = {"enrollments-TOTAL_FORMS": 0, "enrollments-INITIAL_FORMS": 0}
    base = {"name": "Jackson", "state": "MS", "kind": "city", "slug": "jackson-ms", "geoid": "", "ocd_id": ""}
    assert admin_client.post(add, base | inline).status_code == 302
    jurisdiction = Jurisdiction.objects.get()
    change = reverse("admin:jurisdictions_jurisdiction_change", args=[jurisdiction.pk])
    data = base | inline | {"geoid": "2836000", "opened_version": 1}
    assert admin_client.post(change, data).status_code == 302
    delete = reverse("admin:jurisdictions_jurisdiction_delete", args=[jurisdiction.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert stamps(Jurisdiction) == [
        ("+", admin_user, "admin"),
        ("~", admin_user, "admin"),
        ("-", admin_user, "admin"),
    ]
    before, after = Jurisdiction.history.filter(history_type__in="+~").order_by("history_id")
    assert [(c.field, c.old, c.new) for c in after.diff_against(before).changes] == [
        ("geoid", None, "2836000")
    ]


def test_the_admin_door_records_programs_requirements_and_sources(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:jurisdictions_program_add"),
        {
            "slug": "ppp",
            "name": "Another program",
            "agency": "U.S. Department of Justice",
            "launched_on": "",
            "description": "",
            "source": "",
            "requirements-TOTAL_FORMS": 1,
            "requirements-INITIAL_FORMS": 0,
            "requirements-0-order": 1,
            "requirements-0-code": "training",
            "requirements-0-title": "Training",
            "requirements-0-text": "Officers attend the training.",
        },
    )
    assert response.status_code == 302
    response = admin_client.post(
        reverse("admin:jurisdictions_source_add"),
        {
            "kind": "letter",
            "title": "Letter",
            "publisher": "DOJ",
            "url": "https://example.org/letter",
            "published_on": "",
        },
    )
    assert response.status_code == 302
    assert Program.history.get(slug="ppp").history_user == admin_user
    assert stamps(Requirement)[-1] == ("+", admin_user, "admin")
    assert stamps(Source) == [("+", admin_user, "admin")]


def test_the_admin_door_records_answers_and_status_changed_in_one_form(admin_client, admin_user):
    from tests.test_admin import inline_data

    enrollment = EnrollmentFactory(status="letter_sent")
    url = reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk])
    yes = dict.fromkeys(("facility_access", "release_notice", "hold_request"), "yes")
    assert admin_client.post(url, inline_data(enrollment, yes, status="participating")).status_code == 302
    assert stamps(Enrollment)[-1] == ("~", admin_user, "admin")
    assert [s for s in stamps(Certification) if s[0] == "~"] == [("~", admin_user, "admin")] * 3
    hold = Certification.history.filter(requirement__code="hold_request").order_by("history_id")
    assert [(h.answer, h.citation) for h in hold] == [("unknown", ""), ("yes", "Policy 12")]


def test_the_service_door_stamps_the_api_and_its_user():
    user = StaffUserFactory(groups=["Reviewer"])
    enrollment = EnrollmentFactory(status="pending")
    services.enrollment_mark_letter_sent(
        enrollment=enrollment, letter_sent_on="2017-08-03", user=user, via="api"
    )
    assert stamps(Enrollment)[-1] == ("~", user, "api")
    assert StatusChange.objects.get().via == "api"


def test_the_command_line_import_door_stamps_import(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("name,state,kind,program,status\nStockton,CA,city,psp,pending\n")
    call_command("import_jurisdictions", str(path), stdout=None)
    assert stamps(Jurisdiction) == [("+", None, "import")]
    assert stamps(Enrollment) == [("+", None, "import")]
    assert {s[2] for s in stamps(Certification)} == {"import"}
    assert Enrollment.history.get().history_change_reason == "Imported from one.csv"


def test_a_deleted_record_keeps_its_history_and_can_be_restored():
    user = StaffUserFactory(groups=["Editor"])
    source = SourceFactory(title="Letter")
    pk = source.pk
    source.delete()
    assert [h.history_type for h in Source.history.filter(id=pk).order_by("history_id")] == ["+", "-"]
    services.record_restore(model=Source, object_id=pk, user=user, via="admin")
    assert Source.objects.get(pk=pk).title == "Letter"
    assert stamps(Source)[-1] == ("+", user, "admin")


def test_the_explicit_door_wins_over_the_request_path():
    assert current_via() == "system"
    with audit_context("import"):
        assert current_via() == "import"
        with audit_context("api"):
            assert current_via() == "api"
        assert current_via() == "import"
    assert current_via() == "system"
    JurisdictionFactory()
    assert stamps(Jurisdiction) == [("+", None, "system")]


def test_deleting_a_user_keeps_their_history_records_with_no_author():
    # The author column has no database foreign key (see models.history): Django's own deletion
    # must still clear it, or the history pages would point at a user that no longer exists.
    user = StaffUserFactory()
    jurisdiction = JurisdictionFactory()
    services.jurisdiction_update(jurisdiction=jurisdiction, user=user, via="api", name="Renamed")
    record = Jurisdiction.history.get(history_user=user)
    user.delete()
    record.refresh_from_db()
    assert record.history_user_id is None
    assert Jurisdiction.history.filter(pk=record.pk).exists()
