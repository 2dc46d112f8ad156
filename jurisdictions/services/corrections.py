"""Corrections: an earlier record of a timeline was wrong. A correction is not a new event: it is
kept beside the record it corrects ("corrected on <date>: <reason>"), and nothing is deleted."""

from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import Enrollment, StatusChange
from .common import check_status_permission, lock_for_update, status_change_record
from .enrollments import enrollment_update


@transaction.atomic
def status_change_correct(*, change, user, via, reason, status=None, source=None):
    """Record that `change` (a StatusChange) was wrong, and why.

    `status` is the status the record should have given; None withdraws the record (the step did
    not happen: the enrollment goes back to the status before it). When `change` is the latest
    event of its enrollment, the enrollment takes the corrected status through `enrollment_update`
    (the rule and the roles apply); otherwise a later event stands and only the record is corrected.
    `source` is the document showing the correct fact (None: no source recorded).
    Returns the correction's StatusChange row.
    """
    if not (reason or "").strip():
        raise ValidationError({"correction_reason": "Say why the earlier record was wrong."})
    if change.correction_of_id is not None:
        raise ValidationError({"correction_of": "Correct the original record, not a correction of it."})
    if status is None:
        status = change.from_status
        if not status:
            raise ValidationError(
                {"status": "The first record of an enrollment cannot be withdrawn; give the right status."}
            )
    if status not in Enrollment.Status.values:
        raise ValidationError({"status": f"“{status}” is not a status."})
    enrollment = lock_for_update(Enrollment(pk=change.enrollment_id))
    latest = (
        StatusChange.objects.filter(enrollment=enrollment).events().order_by("-changed_at", "-id").first()
    )
    if latest is not None and latest.pk == change.pk:
        enrollment_update(
            enrollment=enrollment,
            user=user,
            via=via,
            status=status,
            source=source,
            correction_of=change,
            correction_reason=reason,
        )
        return StatusChange.objects.filter(correction_of=change).order_by("-changed_at", "-id").first()
    check_status_permission(user=user, from_status=change.from_status, to_status=status)
    return status_change_record(
        enrollment=enrollment,
        from_status=change.from_status,
        to_status=status,
        user=user,
        via=via,
        source=source,
        correction_of=change,
        correction_reason=reason,
    )
