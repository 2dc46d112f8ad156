"""Restoring deleted records from their audit history, with the records deleted with them."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from ..models import Certification, Enrollment, Jurisdiction, Program, Requirement, Source, StatusChange
from .common import PARTICIPATING, may_admit, next_version, save_audited, status_change_values

RESTORABLE = {
    "jurisdiction": Jurisdiction,
    "enrollment": Enrollment,
    "certification": Certification,
    "program": Program,
    "requirement": Requirement,
    "source": Source,
}
# Records deleted with their parent (Django cascades) come back with it.
CASCADED = {
    Jurisdiction: [(Enrollment, "jurisdiction_id")],
    Enrollment: [(Certification, "enrollment_id")],
    Program: [(Requirement, "program_id")],
}
# A cascade deletes the children a moment before their parent, in the same request.
CASCADE_WINDOW = datetime.timedelta(seconds=30)


def deleted_records(model):
    """The last historical row of each record of `model` that is deleted now, newest first."""
    history = model.history.model
    existing = model._default_manager.values("pk")
    deletions = history.objects.filter(history_type="-").exclude(id__in=existing)
    latest = {}
    for record in deletions.order_by("-history_date", "-history_id").select_related("history_user"):
        latest.setdefault(record.id, record)
    return list(latest.values())


def _last_deletion(model, object_id):
    record = model.history.filter(id=object_id).order_by("-history_date", "-history_id").first()
    if record is None or record.history_type != "-" or model._default_manager.filter(pk=object_id).exists():
        raise ValidationError(
            f"There is no deleted {model._meta.verbose_name} with id {object_id} to restore."
        )
    return record


def _restore_one(record, *, user, via, reason, restored):
    model = record.instance_type
    instance = record.instance
    if hasattr(instance, "version"):
        instance.version = next_version(record.version)
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise ValidationError(
            f"{model._meta.verbose_name.capitalize()} “{instance}” cannot be restored: "
            f"{'; '.join(exc.messages)}"
        ) from None
    save_audited(instance, user=user, via=via, reason=reason, force_insert=True)
    restored.append(instance)
    for child_model, fk in CASCADED.get(model, []):
        children = child_model.history.filter(
            **{fk: instance.pk},
            history_type="-",
            history_date__gte=record.history_date - CASCADE_WINDOW,
            history_date__lte=record.history_date,
        ).order_by("-history_date", "-history_id")
        seen = set()
        for child in children:
            if child.id not in seen and not child_model._default_manager.filter(pk=child.id).exists():
                seen.add(child.id)
                _restore_one(child, user=user, via=via, reason=reason, restored=restored)
    if model is Enrollment:
        _rebuild_status_changes(instance)
    return instance


def _rebuild_status_changes(enrollment):
    """Status changes cascade away with their enrollment; the enrollment's own history keeps every
    status it had, with who, when and through what, so the timeline is written again from it."""
    previous = ""
    for row in enrollment.history.exclude(history_type="-").order_by("history_date", "history_id"):
        if row.status != previous:
            values = status_change_values(
                enrollment=row.instance,
                from_status=previous,
                user_id=row.history_user_id,
                via=row.history_via
                if row.history_via in StatusChange.Via.values
                else StatusChange.Via.SYSTEM,
                note=row.history_change_reason or "",
                changed_at=row.history_date,
            )
            StatusChange.objects.create(**values)
            previous = row.status


@transaction.atomic
def record_restore(*, model, object_id, user, via):
    """Bring back a deleted record, with the records deleted with it, from the audit history.

    The restored rows get a history row of their own (who restored, through what). Restoring a
    participating enrollment needs the reviewer's permission and passes the rule again.
    """
    record = _last_deletion(model, object_id)
    reason = f"Restored (deleted {record.history_date:%Y-%m-%d %H:%M} UTC)"
    restored = []
    instance = _restore_one(record, user=user, via=via, reason=reason, restored=restored)
    for obj in restored:
        if isinstance(obj, Enrollment):
            if obj.status == PARTICIPATING and not may_admit(user):
                raise PermissionDenied(f"“{obj}” was participating; only reviewers can restore it.")
            obj.check_rule()
    return instance, restored
