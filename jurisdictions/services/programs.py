"""Programs' requirements. A program's rule must stay true when its requirements change:

- adding a requirement gives every enrollment of the program an `unknown` answer to it, and moves
  the enrollments that were participating to pending (they no longer answer every requirement
  yes), each with a status-change row naming the new requirement, all in one transaction;
- removing a requirement that has answers is refused with the number of answers; one without
  answers (a program nobody is enrolled in) is removed.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import ngettext

from alerts.services import events
from alerts.services.events import events_record

from ..audit import audit_context
from ..db import bulk
from ..models import Certification, Enrollment, Requirement, StatusChange
from .common import (
    PARTICIPATING,
    Stamp,
    actor,
    assign,
    create_once,
    data_written,
    next_version,
    save_audited,
    status_change_values,
)

# title_es, text_es: the unofficial Spanish (issue 19, jurisdictions/translation.py).
REQUIREMENT_FIELDS = ("code", "title", "text", "order", "title_es", "text_es")


def requirement_added_note(requirement):
    return (
        f"Moved to pending: the program now also requires “{requirement.title}” "
        f"({requirement.code}), which this enrollment has not answered yet."
    )


@transaction.atomic
def requirement_create(*, program, user, via, **fields):
    """Add a requirement to `program`, keeping the participating rule true for its enrollments."""
    unknown = set(fields) - set(REQUIREMENT_FIELDS)
    if unknown:
        raise TypeError(f"Requirement has no writable field {sorted(unknown)[0]!r} here")
    requirement = Requirement(program=program, **fields)
    create_once(
        requirement,
        user=user,
        via=via,
        exists={"code": f"Program “{program.slug}” already has a requirement “{requirement.code}”."},
    )
    stamp = Stamp.of(user=user, via=via, reason=f"Requirement “{requirement.code}” added to {program.slug}")
    # Locked in id order, as every writer locks enrollments, so that a concurrent save queues.
    enrollments = list(Enrollment.objects.filter(program=program).select_for_update().order_by("pk"))
    bulk.create_objects(
        [Certification(enrollment_id=e.pk, requirement_id=requirement.pk) for e in enrollments],
        Certification,
        now=stamp.now,
        history=stamp.history,
    )
    demoted = [e for e in enrollments if e.status == PARTICIPATING]
    for e in demoted:
        e.status = Enrollment.Status.PENDING
        e.version = next_version(e.version)
        e.updated_at = stamp.now
    bulk.update_objects(demoted, Enrollment, ["status", "version", "updated_at"], history=stamp.history)
    note = requirement_added_note(requirement)
    bulk.create_objects(
        [
            StatusChange(
                **status_change_values(
                    enrollment=e,
                    from_status=PARTICIPATING,
                    user_id=stamp.user_id,
                    via=via,
                    note=note,
                    source_id=None,  # a program change, not a document, moved it
                    changed_at=stamp.now,
                )
            )
            for e in demoted
        ],
        StatusChange,
        now=stamp.now,
    )
    events_record(events.status_changed(enrollment=e, from_status=PARTICIPATING) for e in demoted)
    data_written()
    return requirement


@transaction.atomic
def requirement_update(*, requirement, user, via, **fields):
    """Change a requirement's code, wording or position. Compared with the stored row (a form
    may already have put the new values on `requirement`)."""
    current = Requirement.objects.select_for_update().get(pk=requirement.pk)
    if assign(current, fields, REQUIREMENT_FIELDS):
        current.full_clean()
        save_audited(current, user=user, via=via)
    return current


def requirement_delete_error(requirement):
    """Why `requirement` cannot be removed, or None: answers are never deleted silently."""
    answers = Certification.objects.filter(requirement=requirement).count()
    if answers:
        return ngettext(
            "“%(title)s” cannot be removed: %(count)d enrollment has an answer to it. Answers are "
            "never deleted with their requirement; keep the requirement (you may reword it).",
            "“%(title)s” cannot be removed: %(count)d enrollments have an answer to it. Answers are "
            "never deleted with their requirement; keep the requirement (you may reword it).",
            answers,
        ) % {"title": requirement.title, "count": answers}
    return None


@transaction.atomic
def requirement_delete(*, requirement, user, via):
    message = requirement_delete_error(requirement)
    if message:
        raise ValidationError(message)
    requirement._history_user = actor(user)
    with audit_context(via):
        requirement.delete()
    data_written()
