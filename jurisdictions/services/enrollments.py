"""Enrollments: a jurisdiction's status in a program, changed together with its answers."""

from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import Enrollment
from .answers import answer_save, answers_lock_and_assign, certifications_create_missing
from .common import (
    ENROLLMENT_FIELDS,
    PARTICIPATING,
    assign,
    check_status_permission,
    create_once,
    joined_on_for,
    lock_for_update,
    next_version,
    save_audited,
    status_change_record,
    sync,
)


def enrollment_exists_message(*, jurisdiction, program):
    """Why a second enrollment of the pair is refused (the admin's form and a create that lost
    the race say the same)."""
    return f"“{jurisdiction}” is already enrolled in “{program.slug}”."


@transaction.atomic
def enrollment_create(*, jurisdiction, program, user, via, note="", **fields):
    """Enrol a jurisdiction in a program with one unknown answer per requirement.

    A new enrollment has no `yes` answer yet, so the rule refuses `participating` here. A twin
    created at the same moment is a DuplicateRecordError (409), not a database error.
    """
    enrollment = Enrollment(jurisdiction=jurisdiction, program=program)
    assign(enrollment, fields, ENROLLMENT_FIELDS)
    check_status_permission(user=user, from_status="", to_status=enrollment.status)
    enrollment.check_rule(answers={})
    enrollment.joined_on = joined_on_for(
        from_status="", to_status=enrollment.status, joined_on=enrollment.joined_on
    )
    create_once(
        enrollment,
        user=user,
        via=via,
        exists={"program": enrollment_exists_message(jurisdiction=jurisdiction, program=program)},
    )
    certifications_create_missing(enrollment=enrollment, user=user, via=via)
    status_change_record(
        enrollment=enrollment, from_status="", user=user, via=via, note=note, source=enrollment.source
    )
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
    correction_of=None,
    correction_reason="",
    **fields,
):
    """Change an enrollment and, in the same step, some of its answers.

    `certifications` maps a certification id to `(expected_version, {field: value})`, so that the
    admin's form (status and answers saved together) is checked by the rule as one change.

    A new status cites the `source` given with it; without one it cites none ("no source
    recorded") and the enrollment's stored source, which reported the earlier status, is cleared:
    a status never inherits a document silently. `correction_of` (a StatusChange of this
    enrollment) and `correction_reason` make this write a correction of that earlier record: its
    status-change row is shown on the record it corrects, not as a new event.
    Raises ValidationError (rule or field errors), PermissionDenied (role), StaleWriteError.
    """
    if "status" in fields and fields["status"] not in Enrollment.Status.values:
        raise ValidationError({"status": f"“{fields['status']}” is not a status."})
    current = lock_for_update(enrollment, expected_version=expected_version)
    if correction_of is not None and correction_of.enrollment_id != current.pk:
        raise ValidationError({"correction_of": "The corrected record belongs to another enrollment."})
    previous, previous_joined_on = current.status, current.joined_on
    status_given = "status" in fields and fields["status"] != previous
    if status_given and "source" not in fields:
        fields = {**fields, "source": None}  # the stored source reported the earlier status
    changed = assign(current, fields, ENROLLMENT_FIELDS)
    check_status_permission(user=user, from_status=previous, to_status=current.status)

    answer_rows = answers_lock_and_assign(enrollment=current, changes=certifications)
    current.check_rule(status=current.status, answers={c.requirement_id: c.answer for c in answer_rows})

    joined_on = joined_on_for(
        from_status=previous,
        to_status=current.status,
        joined_on=current.joined_on,
        stored_joined_on=previous_joined_on,
    )
    if joined_on != current.joined_on:
        current.joined_on = joined_on
        if joined_on == previous_joined_on:
            changed.remove("joined_on")
        else:
            changed.append("joined_on")
    for certification in answer_rows:
        answer_save(certification, user=user, via=via)
    if changed:
        current.full_clean()
        # The row lock makes a plain increment safe (and history copies a value, not an F()).
        current.version = next_version(current.version)
        save_audited(current, user=user, via=via)
    if previous != current.status or correction_of is not None:
        status_change_record(
            enrollment=current,
            from_status=previous,
            user=user,
            via=via,
            note=note,
            source=current.source if "source" in fields else None,
            correction_of=correction_of,
            correction_reason=correction_reason,
        )
    sync(enrollment, current)
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
    correction_of=None,
    correction_reason="",
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
    # The source chosen with the status, or none: never the one stored for the earlier status.
    fields = {"status": status, "source": source, **dates}
    return enrollment_update(
        enrollment=enrollment,
        user=user,
        via=via,
        expected_version=expected_version,
        note=note,
        correction_of=correction_of,
        correction_reason=correction_reason,
        **fields,
    )


def enrollment_mark_letter_sent(
    *,
    enrollment,
    letter_sent_on,
    response_due_on=None,
    user,
    via,
    note="",
    source=None,
    expected_version=None,
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
        source=source,
        expected_version=expected_version,
        **dates,
    )


def enrollment_admit(*, enrollment, user, via, joined_on=None, note="", source=None, expected_version=None):
    """Set participating: a reviewer's step, refused by the rule until every answer is yes."""
    dates = {"joined_on": joined_on} if joined_on is not None else {}
    return enrollment_set_status(
        enrollment=enrollment,
        status=PARTICIPATING,
        user=user,
        via=via,
        note=note,
        source=source,
        expected_version=expected_version,
        **dates,
    )
