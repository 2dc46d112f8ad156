import datetime

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError

from jurisdictions import services
from jurisdictions.models import Certification, Enrollment, Jurisdiction, StatusChange
from tests.factories import EnrollmentFactory, JurisdictionFactory, SourceFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer():
    return StaffUserFactory(groups=["Reviewer"])


@pytest.fixture
def editor():
    return StaffUserFactory(groups=["Editor"])


def test_set_status_refuses_participating_until_every_answer_is_yes(reviewer):
    enrollment = EnrollmentFactory(status="letter_sent")
    with pytest.raises(ValidationError) as exc:
        services.enrollment_set_status(
            enrollment=enrollment, status="participating", user=reviewer, via="api"
        )
    assert "3 requirements are not yet: “DHS access" in exc.value.message_dict["status"][0]
    enrollment.refresh_from_db()
    assert enrollment.status == "letter_sent"
    assert not StatusChange.objects.exists()


def test_set_status_records_the_change_with_user_and_door(reviewer):
    enrollment = EnrollmentFactory(status="letter_sent")
    enrollment.certifications.update(answer="yes")
    services.enrollment_set_status(
        enrollment=enrollment, status="participating", user=reviewer, via="admin", note="Certified"
    )
    change = StatusChange.objects.get()
    assert (change.from_status, change.to_status, change.changed_by, change.via, change.note) == (
        "letter_sent",
        "participating",
        reviewer,
        "admin",
        "Certified",
    )
    enrollment.refresh_from_db()
    assert enrollment.version == 2
    assert change.effective_on == enrollment.joined_on
    assert enrollment.history.latest().history_user == reviewer
    assert enrollment.history.latest().history_via == "admin"


def test_set_status_refuses_a_stale_version(reviewer):
    enrollment = EnrollmentFactory(status="pending")
    Enrollment.objects.filter(pk=enrollment.pk).update(version=5)
    with pytest.raises(services.StaleWriteError):
        services.enrollment_set_status(
            enrollment=enrollment, status="letter_sent", user=reviewer, via="api", expected_version=1
        )
    enrollment.refresh_from_db()
    assert enrollment.status == "pending"


def test_set_status_to_the_same_status_records_no_step(reviewer):
    enrollment = EnrollmentFactory(status="pending")
    services.enrollment_set_status(enrollment=enrollment, status="pending", user=reviewer, via="api")
    assert not StatusChange.objects.exists()
    enrollment.refresh_from_db()
    assert enrollment.version == 1


def test_set_status_refuses_an_unknown_status(reviewer):
    enrollment = EnrollmentFactory(status="pending")
    with pytest.raises(ValidationError) as exc:
        services.enrollment_set_status(enrollment=enrollment, status="admitted", user=reviewer, via="api")
    assert exc.value.message_dict == {"status": ["“admitted” is not a status."]}


def test_an_editor_cannot_admit_even_with_every_answer_yes(editor):
    enrollment = EnrollmentFactory(status="letter_sent")
    enrollment.certifications.update(answer="yes")
    with pytest.raises(PermissionDenied):
        services.enrollment_admit(enrollment=enrollment, user=editor, via="admin")
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.version) == ("letter_sent", 1)


def test_an_editor_can_mark_a_letter_sent_and_edit_a_participating_enrollment(editor):
    pending = EnrollmentFactory(status="pending")
    services.enrollment_mark_letter_sent(
        enrollment=pending,
        letter_sent_on=datetime.date(2017, 8, 3),
        response_due_on=datetime.date(2017, 8, 18),
        user=editor,
        via="admin",
    )
    pending.refresh_from_db()
    assert (pending.status, pending.letter_sent_on, pending.response_due_on) == (
        "letter_sent",
        datetime.date(2017, 8, 3),
        datetime.date(2017, 8, 18),
    )
    participating = EnrollmentFactory(status="participating")
    services.enrollment_update(enrollment=participating, user=editor, via="admin", notes="Checked")
    participating.refresh_from_db()
    assert (participating.status, participating.notes, participating.version) == (
        "participating",
        "Checked",
        2,
    )


def test_mark_letter_sent_leaves_a_participating_enrollment_alone(reviewer):
    enrollment = EnrollmentFactory(status="participating")
    with pytest.raises(ValidationError) as exc:
        services.enrollment_mark_letter_sent(
            enrollment=enrollment, letter_sent_on=datetime.date(2017, 8, 3), user=reviewer, via="admin"
        )
    assert "already participating" in exc.value.messages[0]


def test_admit_sets_the_join_date_to_today_when_none_is_given(reviewer):
    enrollment = EnrollmentFactory(status="letter_sent")
    enrollment.certifications.update(answer="yes")
    services.enrollment_admit(enrollment=enrollment, user=reviewer, via="api")
    enrollment.refresh_from_db()
    assert enrollment.status == "participating"
    assert enrollment.joined_on is not None


def test_update_saves_status_and_answers_together_under_the_rule(reviewer):
    enrollment = EnrollmentFactory(status="letter_sent")
    answers = {c.pk: (c.version, {"answer": "yes"}) for c in enrollment.certifications.all()}
    services.enrollment_update(
        enrollment=enrollment, user=reviewer, via="admin", certifications=answers, status="participating"
    )
    enrollment.refresh_from_db()
    assert enrollment.status == "participating"
    assert sorted(enrollment.certifications.values_list("answer", "version")) == [("yes", 2)] * 3


def test_update_refuses_a_stale_answer_and_writes_nothing(reviewer):
    enrollment = EnrollmentFactory(status="letter_sent")
    first = enrollment.certifications.first()
    Certification.objects.filter(pk=first.pk).update(version=3)
    with pytest.raises(services.StaleWriteError):
        services.enrollment_update(
            enrollment=enrollment,
            user=reviewer,
            via="admin",
            certifications={first.pk: (1, {"answer": "yes"})},
            notes="changed",
        )
    enrollment.refresh_from_db()
    assert (enrollment.notes, enrollment.version) == ("", 1)
    assert Certification.objects.get(pk=first.pk).answer == "unknown"


def test_certification_update_refuses_to_unsettle_a_participating_enrollment(editor):
    enrollment = EnrollmentFactory(status="participating")
    certification = enrollment.certifications.get(requirement__code="hold_request")
    with pytest.raises(ValidationError) as exc:
        services.certification_update(certification=certification, user=editor, via="api", answer="no")
    assert "1 requirement is not yet: “Honor a written DHS request" in exc.value.messages[0]
    certification.refresh_from_db()
    assert (certification.answer, certification.version) == ("yes", 1)


def test_certification_update_records_evidence_with_user_and_door(editor):
    enrollment = EnrollmentFactory(status="letter_sent")
    certification = enrollment.certifications.get(requirement__code="hold_request")
    services.certification_update(
        certification=certification,
        user=editor,
        via="api",
        expected_version=1,
        answer="yes",
        legal_basis="policy",
        citation="General Order 5",
        evidence_url="https://example.org/order-5",
        certified_by="Chief of Police",
        certified_on=datetime.date(2017, 9, 1),
    )
    certification.refresh_from_db()
    assert (certification.answer, certification.citation, certification.version) == (
        "yes",
        "General Order 5",
        2,
    )
    latest = certification.history.latest()
    assert (latest.history_user, latest.history_via, latest.answer) == (editor, "api", "yes")


def test_enrollment_create_gives_unknown_answers_and_refuses_participating(editor, psp):
    jurisdiction = JurisdictionFactory()
    with pytest.raises(ValidationError):
        services.enrollment_create(
            jurisdiction=jurisdiction, program=psp, user=None, via="api", status="participating"
        )
    enrollment = services.enrollment_create(
        jurisdiction=jurisdiction, program=psp, user=editor, via="api", status="pending"
    )
    assert sorted(enrollment.certifications.values_list("answer", flat=True)) == ["unknown"] * 3
    step = StatusChange.objects.get()
    assert (step.to_status, step.changed_by, step.via) == ("pending", editor, "api")
    assert {h.history_via for h in Certification.history.all()} == {"api"}


def test_jurisdiction_update_raises_the_version_and_refuses_a_stale_one(editor):
    jurisdiction = JurisdictionFactory(name="Memphis")
    services.jurisdiction_update(
        jurisdiction=jurisdiction, user=editor, via="admin", expected_version=1, geoid="4748000"
    )
    assert Jurisdiction.objects.get().version == 2
    with pytest.raises(services.StaleWriteError):
        services.jurisdiction_update(
            jurisdiction=jurisdiction, user=editor, via="admin", expected_version=1, geoid="4748001"
        )
    assert Jurisdiction.objects.get().geoid == "4748000"


def test_restore_brings_back_a_jurisdiction_with_its_enrollments_answers_and_timeline(reviewer):
    source = SourceFactory()
    enrollment = EnrollmentFactory(status="letter_sent", source=source)
    services.status_change_record(enrollment=enrollment, from_status="", user=reviewer, via="import")
    answers = {c.pk: (c.version, {"answer": "yes"}) for c in enrollment.certifications.all()}
    services.enrollment_update(
        enrollment=enrollment,
        user=reviewer,
        via="admin",
        certifications=answers,
        status="participating",
        source=source,  # a new status cites its own document (issue 14)
    )
    jurisdiction = enrollment.jurisdiction
    ids = (jurisdiction.pk, enrollment.pk, sorted(enrollment.certifications.values_list("pk", flat=True)))
    jurisdiction.delete()
    assert not Enrollment.objects.exists()

    restored, records = services.record_restore(
        model=Jurisdiction, object_id=ids[0], user=reviewer, via="admin"
    )
    assert restored.pk == ids[0]
    assert len(records) == 5
    enrollment = Enrollment.objects.get()
    assert (enrollment.pk, enrollment.status, enrollment.source) == (ids[1], "participating", source)
    assert sorted(enrollment.certifications.values_list("pk", flat=True)) == ids[2]
    assert set(enrollment.certifications.values_list("answer", flat=True)) == {"yes"}
    assert list(enrollment.status_changes.order_by("changed_at").values_list("from_status", "to_status")) == [
        ("", "letter_sent"),
        ("letter_sent", "participating"),
    ]
    latest = Jurisdiction.history.filter(id=ids[0]).latest()
    assert (latest.history_type, latest.history_user, latest.history_via) == ("+", reviewer, "admin")
    assert latest.history_change_reason.startswith("Restored")


def test_restore_refuses_a_record_that_is_not_deleted(reviewer):
    jurisdiction = JurisdictionFactory()
    with pytest.raises(ValidationError):
        services.record_restore(model=Jurisdiction, object_id=jurisdiction.pk, user=reviewer, via="admin")


def test_only_a_reviewer_restores_a_participating_enrollment(editor, reviewer):
    enrollment = EnrollmentFactory(status="participating")
    pk = enrollment.pk
    enrollment.delete()
    with pytest.raises(PermissionDenied):
        services.record_restore(model=Enrollment, object_id=pk, user=editor, via="admin")
    assert not Enrollment.objects.exists()
    services.record_restore(model=Enrollment, object_id=pk, user=reviewer, via="admin")
    assert Enrollment.objects.get().certifications.count() == 3


def in_own_connection(func):
    """Run `func` in a thread, so on a connection of its own that commits (outside the test's
    transaction), and return its result."""
    import threading

    from django.db import connection

    result = {}

    def run():
        try:
            result["value"] = func()
        except Exception as exc:  # handed back to the test
            result["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    if "error" in result:
        raise result["error"]
    return result.get("value")


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="row locks (select_for_update) are only real on PostgreSQL",
)
def test_of_two_writers_holding_the_same_version_one_wins_and_the_other_is_refused():
    import threading

    def setup():
        user = StaffUserFactory(groups=["Reviewer"])
        return user, EnrollmentFactory(status="pending")

    user, enrollment = in_own_connection(setup)
    barrier = threading.Barrier(2)
    results = {}

    def write(note):
        barrier.wait()
        try:
            services.enrollment_update(
                enrollment=Enrollment.objects.get(pk=enrollment.pk),
                user=user,
                via="api",
                expected_version=1,
                notes=note,
            )
            results[note] = "saved"
        except services.StaleWriteError:
            results[note] = "refused"

    def race():
        threads = [
            threading.Thread(target=in_own_connection, args=(lambda n=note: write(n),))
            for note in ("first", "second")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    def state():
        fresh = Enrollment.objects.get(pk=enrollment.pk)
        return fresh.notes, fresh.version, fresh.history.count()

    def cleanup():
        Enrollment.history.filter(id=enrollment.pk).delete()
        Certification.history.filter(enrollment_id=enrollment.pk).delete()
        Jurisdiction.history.filter(id=enrollment.jurisdiction_id).delete()
        Jurisdiction.objects.filter(pk=enrollment.jurisdiction_id).delete()
        Jurisdiction.history.filter(id=enrollment.jurisdiction_id).delete()
        Enrollment.history.filter(id=enrollment.pk).delete()
        Certification.history.filter(enrollment_id=enrollment.pk).delete()
        type(user).objects.filter(pk=user.pk).delete()

    try:
        race()
        assert sorted(results.values()) == ["refused", "saved"]
        winner = next(note for note, result in results.items() if result == "saved")
        assert in_own_connection(state) == (winner, 2, 2)
    finally:
        in_own_connection(cleanup)


def test_restoring_a_program_brings_back_its_requirements(reviewer):
    from jurisdictions.models import Program, Requirement
    from tests.factories import ProgramFactory, RequirementFactory

    program = ProgramFactory(slug="ppp")
    codes = [RequirementFactory(program=program, code=code).code for code in ("training", "reporting")]
    pk = program.pk
    program.delete()
    assert not Requirement.objects.filter(program_id=pk).exists()
    restored, records = services.record_restore(model=Program, object_id=pk, user=reviewer, via="admin")
    assert (restored.slug, len(records)) == ("ppp", 3)
    assert sorted(Requirement.objects.filter(program_id=pk).values_list("code", flat=True)) == sorted(codes)
    assert services.deleted_records(Requirement) == []


def test_a_status_change_note_over_the_limit_is_refused_and_nothing_is_saved(reviewer):
    enrollment = EnrollmentFactory(status="pending")
    with pytest.raises(ValidationError) as exc:
        services.enrollment_mark_letter_sent(
            enrollment=enrollment,
            letter_sent_on=datetime.date(2017, 8, 3),
            note="n" * (services.STATUS_NOTE_MAX_LENGTH + 1),
            user=reviewer,
            via="api",
        )
    assert exc.value.message_dict == {
        "note": ["A status change's note has at most 2000 characters (it has 2001)."]
    }
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.version) == ("pending", 1)
    assert not StatusChange.objects.exists()
