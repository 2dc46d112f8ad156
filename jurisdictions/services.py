"""Writes that enforce a rule or record history. The admin, the API and the importer call these."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .audit import audit_context
from .models import Certification, Enrollment, StatusChange


class StaleWriteError(Exception):
    """The record changed since the caller read it; saving would overwrite someone's work."""

    def __init__(self, obj, expected_version):
        self.obj = obj
        self.expected_version = expected_version
        super().__init__(
            f"{obj._meta.verbose_name.capitalize()} “{obj}” was changed by someone else since it "
            f"was opened (version {expected_version}, now {obj.version}). Reload it and apply "
            "your change again."
        )


def lock_for_update(obj, *, expected_version=None):
    """Re-read `obj` under a row lock and refuse when its version moved on."""
    locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleWriteError(locked, expected_version)
    return locked


def status_change_record(*, enrollment, from_status, user=None, via, note="", source=None):
    """Append a step to the enrollment's timeline (status changes are never edited afterwards)."""
    return StatusChange.objects.create(
        enrollment=enrollment,
        from_status=from_status,
        to_status=enrollment.status,
        effective_on=enrollment.status_since,
        changed_by=user if user is not None and user.is_authenticated else None,
        via=via,
        note=note,
        source=source if source is not None else enrollment.source,
    )


@transaction.atomic
def enrollment_set_status(
    *,
    enrollment,
    status,
    user=None,
    via,
    note="",
    source=None,
    expected_version=None,
    **dates,
):
    """Move an enrollment to `status`, applying the participating rule and recording the change.

    `dates` may set letter_sent_on, response_due_on or joined_on together with the status.
    Raises ValidationError when the rule refuses, StaleWriteError when the enrollment moved on.
    """
    if status not in Enrollment.Status.values:
        raise ValidationError({"status": f"“{status}” is not a status."})
    current = lock_for_update(enrollment, expected_version=expected_version)
    previous = current.status
    current.check_rule(status=status)
    current.status = status
    for field, value in dates.items():
        if field not in {"letter_sent_on", "response_due_on", "joined_on"}:
            raise TypeError(f"enrollment_set_status() got an unexpected field {field!r}")
        setattr(current, field, value)
    if status == Enrollment.Status.PARTICIPATING and current.joined_on is None:
        current.joined_on = timezone.localdate()
    if source is not None:
        current.source = source
    current.full_clean()
    # The row lock makes a plain increment safe (and history copies a value, not an F()).
    current.version += 1
    current._history_user = user  # simple-history's hook for writes made outside a request
    with audit_context(via):
        current.save()
    if previous != status:
        status_change_record(
            enrollment=current, from_status=previous, user=user, via=via, note=note, source=source
        )
    # Keep the caller's object in step with the database.
    enrollment.__dict__.update(
        {f.attname: getattr(current, f.attname) for f in current._meta.concrete_fields}
    )
    return current


def certifications_create_missing(*, enrollment):
    """Give the enrollment one answer (unknown) for each requirement of its program it lacks."""
    have = set(enrollment.certifications.values_list("requirement_id", flat=True))
    for requirement in enrollment.program.requirements.all():
        if requirement.pk not in have:
            Certification.objects.create(enrollment=enrollment, requirement=requirement)
