import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from jurisdictions.db.lookups import where_in
from jurisdictions.models import Certification, Enrollment, Jurisdiction
from tests.factories import EnrollmentFactory, JurisdictionFactory, ProgramFactory, RequirementFactory

pytestmark = pytest.mark.django_db


def refused_by_database(**kwargs):
    with pytest.raises(IntegrityError), transaction.atomic():
        JurisdictionFactory(**kwargs)


def test_the_psp_program_and_its_three_requirements_exist(psp):
    assert psp.name == "Public Safety Partnership"
    assert psp.agency == "U.S. Department of Justice"
    assert list(psp.requirements.values_list("code", flat=True)) == [
        "facility_access",
        "release_notice",
        "hold_request",
    ]
    assert "48 hours beyond the scheduled release date" in psp.requirements.get(code="hold_request").text


def test_state_outside_usps_codes_is_refused_by_the_database():
    refused_by_database(state="ZZ")


def test_unknown_kind_is_refused_by_the_database():
    refused_by_database(kind="planet")


def test_empty_geoid_is_refused_so_uniqueness_binds_only_real_ids():
    refused_by_database(geoid="")


def test_geoid_is_unique_when_set_and_keeps_leading_zeros():
    JurisdictionFactory(name="Birmingham", state="AL", geoid="0107000")
    JurisdictionFactory(name="Nowhere", geoid=None)
    JurisdictionFactory(name="Elsewhere", geoid=None)
    assert Jurisdiction.objects.get(geoid="0107000").name == "Birmingham"
    refused_by_database(name="Copy", geoid="0107000")


def test_jackson_tn_and_jackson_ms_are_different_jurisdictions():
    tn = JurisdictionFactory(name="Jackson", state="TN")
    ms = JurisdictionFactory(name="Jackson", state="MS")
    assert (tn.slug, ms.slug) == ("jackson-tn", "jackson-ms")
    assert Jurisdiction.objects.filter(name="Jackson").count() == 2


def test_geoid_must_be_digits():
    jurisdiction = JurisdictionFactory.build(geoid="47-376", slug="x-tn")
    with pytest.raises(ValidationError) as exc:
        jurisdiction.full_clean()
    assert "geoid" in exc.value.message_dict


def test_a_jurisdiction_is_enrolled_once_per_program(psp):
    enrollment = EnrollmentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.create(jurisdiction=enrollment.jurisdiction, program=psp)


@pytest.mark.parametrize(
    ("field", "value"),
    [("status", "admitted"), ("site_type", "headquarters")],
)
def test_enrollment_choices_are_enforced_by_the_database(field, value):
    enrollment = EnrollmentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.filter(pk=enrollment.pk).update(**{field: value})


def test_response_cannot_be_due_before_the_letter_was_sent():
    enrollment = EnrollmentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.filter(pk=enrollment.pk).update(
            letter_sent_on="2017-08-03", response_due_on="2017-08-01"
        )


def test_answer_outside_choices_is_refused_by_the_database():
    enrollment = EnrollmentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        enrollment.certifications.update(answer="maybe")


def test_not_applicable_must_name_who_runs_the_facility():
    enrollment = EnrollmentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        enrollment.certifications.update(answer="not_applicable", facility_operator="")
    enrollment.certifications.update(answer="not_applicable", facility_operator="Shelby County Sheriff")


def test_participating_requires_every_requirement_answered_yes():
    enrollment = EnrollmentFactory(
        answers={"facility_access": "yes", "release_notice": "no", "hold_request": "not_applicable"}
    )
    errors = enrollment.rule_errors(status="participating")
    assert errors == [
        "Status cannot be participating until every requirement is answered yes; 2 requirements "
        "are not yet: “At least 48 hours' notice of a release, where possible, when DHS asks”, "
        "“Honor a written DHS request to hold a person up to 48 hours past release”."
    ]
    with pytest.raises(ValidationError) as exc:
        enrollment.check_rule(status="participating")
    assert "status" in exc.value.message_dict


def test_rule_accepts_participating_when_every_answer_is_yes():
    enrollment = EnrollmentFactory(
        answers={"facility_access": "yes", "release_notice": "yes", "hold_request": "yes"}
    )
    assert enrollment.rule_errors(status="participating") == []


def test_rule_uses_unsaved_answers_over_stored_ones():
    enrollment = EnrollmentFactory()
    all_yes = {r.pk: "yes" for r in enrollment.program.requirements.all()}
    assert enrollment.rule_errors(status="participating", answers=all_yes) == []


def test_other_statuses_do_not_need_answers():
    enrollment = EnrollmentFactory()
    assert enrollment.rule_errors(status="letter_sent") == []
    assert enrollment.rule_errors(status="pending") == []


def test_rule_follows_the_programs_own_requirements():
    program = ProgramFactory()
    RequirementFactory(program=program, code="grant_condition", title="A grant condition")
    enrollment = EnrollmentFactory(program=program)
    assert enrollment.rule_errors(status="participating")[0].endswith(
        "1 requirement is not yet: “A grant condition”."
    )


def test_certification_requirement_must_belong_to_the_enrollments_program():
    enrollment = EnrollmentFactory()
    other = RequirementFactory()
    certification = Certification(enrollment=enrollment, requirement=other)
    with pytest.raises(ValidationError) as exc:
        certification.clean()
    assert "requirement" in exc.value.message_dict


def test_status_counts_list_every_status(psp):
    EnrollmentFactory(status="participating")
    EnrollmentFactory(status="participating")
    EnrollmentFactory(status="letter_sent")
    assert psp.status_counts() == {"pending": 0, "letter_sent": 1, "participating": 2}


def test_incomplete_enrollments_are_those_missing_a_yes():
    done = EnrollmentFactory(status="participating")
    partial = EnrollmentFactory(answers={"facility_access": "yes"})
    assert list(Enrollment.objects.incomplete().values_list("pk", flat=True)) == [partial.pk]
    assert done.pk not in Enrollment.objects.incomplete().values_list("pk", flat=True)


def test_where_in_keeps_exactly_the_rows_whose_column_is_listed():
    a, b, c = JurisdictionFactory.create_batch(3)
    assert set(where_in(Jurisdiction.objects.all(), "id", [a.pk, c.pk])) == {a, c}
    assert list(where_in(Jurisdiction.objects.all(), "slug", iter([b.slug]))) == [b]
    assert list(where_in(Jurisdiction.objects.all(), "id", [])) == []


def test_answers_summary_words_are_kept_per_counts_and_language():
    # The words are kept per (counts, kind, language): the same counts read in Spanish on a Spanish
    # page and in English elsewhere, whatever was asked first.
    from django.utils import translation

    from jurisdictions.models import answers_summary
    from jurisdictions.models.certifications import _summary_words

    answers = [("yes", "certified"), ("yes", "reported"), ("no", "")]
    with translation.override("es"):
        spanish = answers_summary(answers, of=3, kind="city")
    with translation.override("en"):
        english = answers_summary(answers, of=3, kind="city")
        assert english == _summary_words.__wrapped__(1, 1, 0, 3, "city", "en")
    with translation.override("es"):
        assert answers_summary(answers, of=3, kind="city") == spanish
        assert spanish == _summary_words.__wrapped__(1, 1, 0, 3, "city", "es")
    assert english == "1 of 3 certified; 1 of 3 reported as met (not certified by the city)"
    assert spanish != english
