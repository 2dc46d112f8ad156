"""Writes that enforce a rule, a role or record history. The admin, the API and the importer call these.

Every function takes keyword-only arguments, the acting `user` (None for the command line) and `via`
(admin, api, import), so the audit trail says who changed what and through which door. The
participating rule itself lives once, in `Enrollment.participation_errors`; the roles live here.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from .audit import audit_context
from .models import Certification, Enrollment, Jurisdiction, Program, Requirement, Source, StatusChange

ADMIT_PERMISSION = "jurisdictions.admit_enrollment"
PARTICIPATING = Enrollment.Status.PARTICIPATING
ENROLLMENT_FIELDS = (
    "status",
    "site_type",
    "letter_sent_on",
    "response_due_on",
    "joined_on",
    "notes",
    "source",
)
CERTIFICATION_FIELDS = (
    "answer",
    "facility_operator",
    "legal_basis",
    "citation",
    "evidence_url",
    "certified_by",
    "certified_on",
    "source",
)
JURISDICTION_FIELDS = ("name", "state", "kind", "slug", "geoid", "ocd_id")


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


# -- roles -------------------------------------------------------------------------------------


def may_admit(user):
    """Reviewers (and superusers) may set participating. `None` is the command line's operator."""
    return user is None or user.has_perm(ADMIT_PERMISSION)


def check_status_permission(*, user, from_status, to_status):
    """Editors move enrollments to pending or letter_sent; only reviewers admit (set participating)."""
    if to_status == PARTICIPATING and from_status != PARTICIPATING and not may_admit(user):
        raise PermissionDenied(
            "Only reviewers can set an enrollment to participating; ask a reviewer to admit it."
        )


# -- helpers -----------------------------------------------------------------------------------


def lock_for_update(obj, *, expected_version=None):
    """Re-read `obj` under a row lock and refuse when its version moved on."""
    locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleWriteError(locked, expected_version)
    return locked


def _actor(user):
    return user if user is not None and user.is_authenticated else None


def _save(obj, *, user, via, reason=None, **save_kwargs):
    """Save with the history row stamped with the user, the door and an optional reason."""
    obj._history_user = _actor(user)  # simple-history's hook for writes made outside a request
    if reason:
        obj._change_reason = reason
    with audit_context(via):
        obj.save(**save_kwargs)


def _sync(caller_obj, current):
    """Keep the caller's object in step with the database."""
    if caller_obj is not None and caller_obj is not current:
        caller_obj.__dict__.update(
            {f.attname: getattr(current, f.attname) for f in current._meta.concrete_fields}
        )
        for f in current._meta.concrete_fields:
            if f.is_relation and f.is_cached(caller_obj):
                f.delete_cached_value(caller_obj)


def _assign(obj, values, allowed):
    changed = []
    for field, value in values.items():
        if field not in allowed:
            raise TypeError(f"{type(obj).__name__} has no writable field {field!r} here")
        if getattr(obj, field) != value:
            setattr(obj, field, value)
            changed.append(field)
    return changed


def status_change_record(*, enrollment, from_status, user=None, via, note="", source=None, changed_at=None):
    """Append a step to the enrollment's timeline (status changes are never edited afterwards)."""
    return StatusChange.objects.create(
        enrollment=enrollment,
        from_status=from_status,
        to_status=enrollment.status,
        changed_at=changed_at or timezone.now(),
        effective_on=enrollment.status_since,
        changed_by=_actor(user),
        via=via,
        note=note,
        source=source if source is not None else enrollment.source,
    )


# -- sources and jurisdictions -----------------------------------------------------------------


@transaction.atomic
def source_create(*, user, via, **fields):
    source = Source(**fields)
    source.full_clean()
    _save(source, user=user, via=via)
    return source


@transaction.atomic
def jurisdiction_create(*, user, via, **fields):
    jurisdiction = Jurisdiction()
    _assign(jurisdiction, fields, JURISDICTION_FIELDS)
    jurisdiction.full_clean()
    _save(jurisdiction, user=user, via=via)
    return jurisdiction


@transaction.atomic
def jurisdiction_update(*, jurisdiction, user, via, expected_version=None, **fields):
    """Change a jurisdiction's identity fields; refuses with StaleWriteError over a newer version."""
    current = lock_for_update(jurisdiction, expected_version=expected_version)
    if _assign(current, fields, JURISDICTION_FIELDS):
        current.full_clean()
        current.version += 1
        _save(current, user=user, via=via)
    _sync(jurisdiction, current)
    return current


# -- enrollments -------------------------------------------------------------------------------


def certifications_create_missing(*, enrollment, user=None, via=StatusChange.Via.SYSTEM):
    """Give the enrollment one answer (unknown) for each requirement of its program it lacks."""
    have = set(enrollment.certifications.values_list("requirement_id", flat=True))
    for requirement in enrollment.program.requirements.all():
        if requirement.pk not in have:
            _save(Certification(enrollment=enrollment, requirement=requirement), user=user, via=via)


@transaction.atomic
def enrollment_create(*, jurisdiction, program, user, via, note="", **fields):
    """Enrol a jurisdiction in a program with one unknown answer per requirement.

    A new enrollment has no `yes` answer yet, so the rule refuses `participating` here.
    """
    enrollment = Enrollment(jurisdiction=jurisdiction, program=program)
    _assign(enrollment, fields, ENROLLMENT_FIELDS)
    check_status_permission(user=user, from_status="", to_status=enrollment.status)
    enrollment.check_rule(answers={})
    if enrollment.status == PARTICIPATING and enrollment.joined_on is None:
        enrollment.joined_on = timezone.localdate()
    enrollment.full_clean()
    _save(enrollment, user=user, via=via)
    certifications_create_missing(enrollment=enrollment, user=user, via=via)
    status_change_record(enrollment=enrollment, from_status="", user=user, via=via, note=note)
    return enrollment


@transaction.atomic
def enrollment_update(
    *,
    enrollment,
    user,
    via,
    expected_version=None,
    certifications=None,
    note="",
    **fields,
):
    """Change an enrollment and, in the same step, some of its answers.

    `certifications` maps a certification id to `(expected_version, {field: value})`, so that the
    admin's form (status and answers saved together) is checked by the rule as one change.
    Raises ValidationError (rule or field errors), PermissionDenied (role), StaleWriteError.
    """
    if "status" in fields and fields["status"] not in Enrollment.Status.values:
        raise ValidationError({"status": f"“{fields['status']}” is not a status."})
    current = lock_for_update(enrollment, expected_version=expected_version)
    previous = current.status
    changed = _assign(current, fields, ENROLLMENT_FIELDS)
    check_status_permission(user=user, from_status=previous, to_status=current.status)

    answer_rows = []
    for pk, (version, values) in (certifications or {}).items():
        certification = lock_for_update(Certification(pk=pk), expected_version=version)
        if certification.enrollment_id != current.pk:
            raise ValidationError(f"Answer {pk} belongs to another enrollment.")
        if _assign(certification, values, CERTIFICATION_FIELDS):
            answer_rows.append(certification)
    answers = {c.requirement_id: c.answer for c in answer_rows}
    current.check_rule(status=current.status, answers=answers)

    if current.status == PARTICIPATING and previous != PARTICIPATING and current.joined_on is None:
        current.joined_on = timezone.localdate()
        changed.append("joined_on")
    for certification in answer_rows:
        certification.full_clean()
        certification.version += 1
        _save(certification, user=user, via=via)
    if changed:
        current.full_clean()
        # The row lock makes a plain increment safe (and history copies a value, not an F()).
        current.version += 1
        _save(current, user=user, via=via)
    if previous != current.status:
        status_change_record(enrollment=current, from_status=previous, user=user, via=via, note=note)
    _sync(enrollment, current)
    return current


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
    Raises ValidationError when the rule refuses, PermissionDenied when the user's role does not
    allow the status, StaleWriteError when the enrollment moved on.
    """
    for field in dates:
        if field not in {"letter_sent_on", "response_due_on", "joined_on"}:
            raise TypeError(f"enrollment_set_status() got an unexpected field {field!r}")
    fields = {"status": status, **dates}
    if source is not None:
        fields["source"] = source
    return enrollment_update(
        enrollment=enrollment,
        user=user,
        via=via,
        expected_version=expected_version,
        note=note,
        **fields,
    )


def enrollment_mark_letter_sent(
    *, enrollment, letter_sent_on, response_due_on=None, user, via, note="", expected_version=None
):
    """Record that the program's letter went out (an editor's step)."""
    if enrollment.status == PARTICIPATING:
        raise ValidationError({"status": "It is already participating; change its status on its own page."})
    dates = {"letter_sent_on": letter_sent_on}
    if response_due_on is not None:
        dates["response_due_on"] = response_due_on
    return enrollment_set_status(
        enrollment=enrollment,
        status=Enrollment.Status.LETTER_SENT,
        user=user,
        via=via,
        note=note,
        expected_version=expected_version,
        **dates,
    )


def enrollment_admit(*, enrollment, user, via, joined_on=None, note="", expected_version=None):
    """Set participating: a reviewer's step, refused by the rule until every answer is yes."""
    dates = {"joined_on": joined_on} if joined_on is not None else {}
    return enrollment_set_status(
        enrollment=enrollment,
        status=PARTICIPATING,
        user=user,
        via=via,
        note=note,
        expected_version=expected_version,
        **dates,
    )


@transaction.atomic
def certification_update(*, certification, user, via, expected_version=None, **fields):
    """Change one answer and its evidence; the rule refuses to unsettle a participating enrollment."""
    # Locks in the order every writer takes them (jurisdiction, enrollment, answer), so that this
    # and an import or an admin save of the same enrollment queue up instead of deadlocking.
    enrollment = Enrollment.objects.select_for_update().get(pk=certification.enrollment_id)
    current = lock_for_update(certification, expected_version=expected_version)
    if _assign(current, fields, CERTIFICATION_FIELDS):
        enrollment.check_rule(answers={current.requirement_id: current.answer})
        current.full_clean()
        current.version += 1
        _save(current, user=user, via=via)
    _sync(certification, current)
    return current


# -- restoring deleted records -----------------------------------------------------------------

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
        instance.version = record.version + 1
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise ValidationError(
            f"{model._meta.verbose_name.capitalize()} “{instance}” cannot be restored: "
            f"{'; '.join(exc.messages)}"
        ) from None
    _save(instance, user=user, via=via, reason=reason, force_insert=True)
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
            step = StatusChange(
                enrollment=enrollment,
                from_status=previous,
                to_status=row.status,
                changed_at=row.history_date,
                effective_on=row.instance.status_since,
                changed_by_id=row.history_user_id,
                via=row.history_via
                if row.history_via in StatusChange.Via.values
                else StatusChange.Via.SYSTEM,
                note=row.history_change_reason or "",
                source_id=row.source_id,
            )
            step.save()
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
