"""Error reports from the public: kept private in a staff queue until staff accept one (it becomes
a correction) or dismiss it, each with a reason."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..models import ErrorReport
from .common import actor
from .corrections import status_change_correct


def error_report_submit(*, jurisdiction, message, evidence_url="", contact=""):
    """Queue a reader's report. Nothing of it is shown publicly."""
    report = ErrorReport(
        jurisdiction=jurisdiction, message=message.strip(), evidence_url=evidence_url, contact=contact
    )
    report.full_clean()
    report.save()
    return report


def _decide(report, *, user, state, reason, correction=None):
    if not (reason or "").strip():
        raise ValidationError({"decision_reason": "Give the reason for the decision."})
    current = ErrorReport.objects.select_for_update().get(pk=report.pk)
    if current.state != ErrorReport.State.OPEN:
        raise ValidationError(f"This report was already {current.get_state_display().lower()}.")
    current.state = state
    current.decision_reason = reason.strip()
    current.decided_at = timezone.now()
    current.decided_by = actor(user)
    current.correction = correction
    current.full_clean()
    current.save()
    return current


@transaction.atomic
def error_report_accept(*, report, user, via, change, reason, status=None, source=None):
    """Accept a report: `change` (the record it shows wrong) is corrected with `reason`."""
    if change.enrollment.jurisdiction_id != report.jurisdiction_id:
        raise ValidationError({"change": "That record belongs to another jurisdiction than the report."})
    correction = status_change_correct(
        change=change, user=user, via=via, reason=reason, status=status, source=source
    )
    return _decide(report, user=user, state=ErrorReport.State.ACCEPTED, reason=reason, correction=correction)


@transaction.atomic
def error_report_dismiss(*, report, user, reason):
    return _decide(report, user=user, state=ErrorReport.State.DISMISSED, reason=reason)
