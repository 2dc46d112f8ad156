"""Program changes keep the rule true: a new requirement gives every enrollment an unknown answer
and moves participating ones to pending (with a status change saying why); a requirement that
has answers is never removed with them."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from jurisdictions import services
from jurisdictions.models import Certification, Enrollment, Requirement, StatusChange
from tests.factories import EnrollmentFactory, JurisdictionFactory, ProgramFactory, psp

pytestmark = pytest.mark.django_db


def assert_the_rule_holds():
    """Every participating enrollment answers every requirement of its program yes, in the database."""
    for enrollment in Enrollment.objects.participating():
        requirements = set(enrollment.program.requirements.values_list("pk", flat=True))
        yes = set(enrollment.certifications.filter(answer="yes").values_list("requirement_id", flat=True))
        assert requirements <= yes, enrollment


@pytest.fixture
def enrolled():
    return {
        "memphis": EnrollmentFactory(
            status="participating", jurisdiction=JurisdictionFactory(name="Memphis"), joined_on="2017-06-20"
        ),
        "stockton": EnrollmentFactory(
            status="letter_sent", jurisdiction=JurisdictionFactory(name="Stockton", state="CA")
        ),
    }


def test_adding_a_requirement_answers_it_unknown_and_moves_participants_to_pending(enrolled, admin_user):
    requirement = services.requirement_create(
        program=psp(), user=admin_user, via="admin", code="data_sharing", title="Data sharing", text="Share."
    )
    assert set(requirement.certifications.values_list("enrollment__jurisdiction__name", "answer")) == {
        ("Memphis", "unknown"),
        ("Stockton", "unknown"),
    }
    memphis, stockton = (Enrollment.objects.get(pk=enrolled[n].pk) for n in ("memphis", "stockton"))
    assert (memphis.status, memphis.version, stockton.status, stockton.version) == (
        "pending",
        2,
        "letter_sent",
        1,
    )
    step = memphis.status_changes.get()
    assert (step.from_status, step.to_status, step.changed_by, step.via) == (
        "participating",
        "pending",
        admin_user,
        "admin",
    )
    assert "now also requires “Data sharing” (data_sharing)" in step.note
    assert memphis.history.latest().history_user == admin_user
    assert_the_rule_holds()


def test_a_requirement_added_in_the_program_admin_keeps_the_rule(enrolled, admin_client):
    program = psp()
    url = reverse("admin:jurisdictions_program_change", args=[program.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    existing = list(program.requirements.order_by("order", "code"))
    data.update(
        {
            "requirements-TOTAL_FORMS": len(existing) + 1,
            "requirements-INITIAL_FORMS": len(existing),
            "requirements-MIN_NUM_FORMS": 0,
            "requirements-MAX_NUM_FORMS": 1000,
        }
    )
    for i, r in enumerate(existing):
        data.update(
            {
                f"requirements-{i}-id": r.pk,
                f"requirements-{i}-program": program.pk,
                f"requirements-{i}-order": r.order,
                f"requirements-{i}-code": r.code,
                f"requirements-{i}-title": r.title,
                f"requirements-{i}-text": r.text,
            }
        )
    n = len(existing)
    data.update(
        {
            f"requirements-{n}-program": program.pk,
            f"requirements-{n}-order": 9,
            f"requirements-{n}-code": "data_sharing",
            f"requirements-{n}-title": "Data sharing",
            f"requirements-{n}-text": "Share data.",
        }
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    assert Certification.objects.filter(requirement__code="data_sharing", answer="unknown").count() == 2
    assert Enrollment.objects.get(pk=enrolled["memphis"].pk).status == "pending"
    assert StatusChange.objects.filter(to_status="pending", note__contains="data_sharing").count() == 1
    assert_the_rule_holds()

    # Removing it again: refused, with the reason, and nothing changes.
    data.update({"requirements-TOTAL_FORMS": n + 1, "requirements-INITIAL_FORMS": n + 1})
    data[f"requirements-{n}-id"] = Requirement.objects.get(code="data_sharing").pk
    data[f"requirements-{n}-DELETE"] = "on"
    response = admin_client.post(url, data)
    assert response.status_code == 200
    # Our reason (issue 12), not Django's list of protected rows; the row is marked and linked.
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.non_form_errors() == [
        "“Data sharing” cannot be removed: 2 enrollments have an answer to it. Answers are never "
        "deleted with their requirement; keep the requirement (you may reword it)."
    ]
    assert formset.forms[n].non_field_errors() == ["Not removed: enrollments have answered this requirement."]
    assert "protected" not in str(response.context["errors"])
    top = [line["message"] for line in response.context["refusal"]]
    assert top == [formset.non_form_errors()[0], "1 row is marked below; correct it:"]
    assert Requirement.objects.filter(code="data_sharing").exists()
    assert_the_rule_holds()


def test_a_requirement_with_answers_is_not_removed(enrolled):
    requirement = psp().requirements.get(code="hold_request")
    with pytest.raises(ValidationError, match="cannot be removed: 2 enrollments have an answer"):
        services.requirement_delete(requirement=requirement, user=None, via="system")
    assert Certification.objects.filter(requirement=requirement).count() == 2


def test_the_refusal_to_remove_a_requirement_counts_its_answers_in_good_english(db):
    requirement = services.requirement_create(
        program=ProgramFactory(slug="new"), user=None, via="system", code="a", title="Alpha", text="A"
    )
    EnrollmentFactory(program=requirement.program)
    assert services.requirement_delete_error(requirement).startswith(
        "“Alpha” cannot be removed: 1 enrollment has an answer to it."
    )


def test_a_requirement_nobody_answered_is_removed():
    program = ProgramFactory(slug="new")
    requirement = services.requirement_create(
        program=program, user=None, via="system", code="a", title="A", text="A"
    )
    services.requirement_delete(requirement=requirement, user=None, via="system")
    assert not Requirement.objects.filter(pk=requirement.pk).exists()


def test_a_requirement_code_is_unique_in_its_program(enrolled):
    with pytest.raises(ValidationError) as caught:
        services.requirement_create(
            program=psp(), user=None, via="system", code="hold_request", title="X", text="X"
        )
    assert caught.value.messages
    assert_the_rule_holds()


def test_rewording_a_requirement_moves_nobody(enrolled):
    requirement = psp().requirements.get(code="hold_request")
    services.requirement_update(requirement=requirement, user=None, via="system", title="Detainer requests")
    assert Requirement.objects.get(pk=requirement.pk).title == "Detainer requests"
    assert Enrollment.objects.get(pk=enrolled["memphis"].pk).status == "participating"
    assert_the_rule_holds()
