"""Answers (certifications): one per enrollment and requirement, with their evidence."""

from django.core.exceptions import ValidationError
from django.db import transaction

from alerts.services import events
from alerts.services.events import events_record

from ..models import Certification, Enrollment
from .common import CERTIFICATION_FIELDS, assign, lock_for_update, next_version, save_audited, sync


def certifications_create_missing(*, enrollment, user=None, via):
    """Give the enrollment one answer (unknown) for each requirement of its program it lacks."""
    have = set(enrollment.certifications.values_list("requirement_id", flat=True))
    for requirement in enrollment.program.requirements.all():
        if requirement.pk not in have:
            save_audited(Certification(enrollment=enrollment, requirement=requirement), user=user, via=via)


def answers_lock_and_assign(*, enrollment, changes):
    """The answers `changes` names ({id: (expected_version, {field: value})}), locked, checked to
    belong to `enrollment`, with the values assigned (not saved). An id that is no answer of this
    enrollment is a ValidationError, never a crash."""
    rows = []
    for pk, (version, values) in (changes or {}).items():
        try:
            certification = lock_for_update(Certification(pk=pk), expected_version=version)
        except Certification.DoesNotExist:
            certification = None
        if certification is None or certification.enrollment_id != enrollment.pk:
            raise ValidationError(f"Answer {pk} is not an answer of this enrollment; reload the page.")
        if assign(certification, values, CERTIFICATION_FIELDS):
            rows.append(certification)
    return rows


def answer_save(certification, *, user, via):
    certification.full_clean()
    events_record([events.answer_change_of(certification)])  # before the save: compares the stored answer
    certification.version = next_version(certification.version)
    save_audited(certification, user=user, via=via)


@transaction.atomic
def certification_update(*, certification, user, via, expected_version=None, **fields):
    """Change one answer and its evidence; the rule refuses to unsettle a participating enrollment."""
    # Locks in the order every writer takes them (jurisdiction, enrollment, answer), so that this
    # and an import or an admin save of the same enrollment queue up instead of deadlocking.
    enrollment = Enrollment.objects.select_for_update().get(pk=certification.enrollment_id)
    current = lock_for_update(certification, expected_version=expected_version)
    if assign(current, fields, CERTIFICATION_FIELDS):
        enrollment.check_rule(answers={current.requirement_id: current.answer})
        answer_save(current, user=user, via=via)
    sync(certification, current)
    return current
