"""The decisions every write makes, each written once: the admin, the API, the importer, the admin
CSV import and `generate_jurisdictions` all reach them (per row through the services of this
package, in bulk through `transfer/` and `db/bulk.py`). docs/write-path.md lists each rule and
the function here (or in the models) that decides it.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext

from alerts.services import events
from alerts.services.events import events_record

from ..audit import audit_context
from ..cache import note_write
from ..models import Enrollment, StatusChange

ADMIT_PERMISSION = "jurisdictions.admit_enrollment"
# A status change's note (shown publicly in the timeline and the feed), as long as a correction's reason.
STATUS_NOTE_MAX_LENGTH = 2000
PARTICIPATING = Enrollment.Status.PARTICIPATING
ENROLLMENT_FIELDS = (
    "status",
    "site_type",
    "letter_sent_on",
    "response_due_on",
    "joined_on",
    "notes",
    "source",
    "site_type_source",
)
CERTIFICATION_FIELDS = (
    "answer",
    "basis",
    "facility_operator",
    "legal_basis",
    "citation",
    "evidence_url",
    "certified_by",
    "certified_on",
    "source",
    "second_source",
)
JURISDICTION_FIELDS = ("name", "state", "kind", "slug", "geoid", "ocd_id", "place", "latitude", "longitude")


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


class DuplicateRecordError(ValidationError):
    """A create lost to an identical record (often one created a moment earlier, in parallel).

    A ValidationError keyed by field, so that a form shows it on the field; the API answers 409.
    """


# -- who may set which status ------------------------------------------------------------------


def may_admit(user):
    """Reviewers (and superusers) may set participating. `None` is the command line's operator."""
    return user is None or user.has_perm(ADMIT_PERMISSION)


def status_permission_error(*, may_admit, from_status, to_status):
    """Editors move enrollments to pending or letter_sent; only reviewers admit (set participating).

    The message refusing the step, or None. Takes `may_admit` (the user's answer to `may_admit`)
    so that a bulk import asks once per file rather than once per row.
    """
    if to_status == PARTICIPATING and from_status != PARTICIPATING and not may_admit:
        return "Only reviewers can set an enrollment to participating; ask a reviewer to admit it."
    return None


def check_status_permission(*, user, from_status, to_status):
    message = status_permission_error(may_admit=may_admit(user), from_status=from_status, to_status=to_status)
    if message:
        raise PermissionDenied(message)


# -- the participating rule and the join date ----------------------------------------------------


def participation_errors(*, status, requirements, answers):
    """The rule (see `Enrollment.participation_errors`): messages, empty when `status` may stand."""
    return Enrollment.participation_errors(status=status, requirements=requirements, answers=answers)


def participation_unmet(*, status, requirements, answers):
    """The requirements that stop `status` (the rows a form marks), empty when it may stand."""
    return Enrollment.unmet_of(status=status, requirements=requirements, answers=answers)


def joined_on_for(*, from_status, to_status, joined_on, stored_joined_on=None, today=None):
    """The join date an enrollment has after a change that gives it `to_status` and `joined_on`.

    A participating enrollment always has a join date when the tracker saw it join: a move to
    participating with no date given takes today's date (the day the tracker learnt it); an
    enrollment that stays participating and is given no date keeps the one it had (so that a file
    whose joined_on cell is blank imports twice with the same result). Otherwise `joined_on`.
    """
    if to_status != PARTICIPATING or joined_on is not None:
        return joined_on
    if from_status == PARTICIPATING:
        return stored_joined_on
    return today or timezone.localdate()


# -- versions, history, status-change rows, the cache ----------------------------------------------


def next_version(version):
    """Every write raises the record's version, so a form or an If-Match opened before it fails."""
    return version + 1


def actor(user):
    return user if user is not None and user.is_authenticated else None


@dataclass(frozen=True)
class Stamp:
    """Who, through which door, why and when: every history row and status-change row of one
    write carries these."""

    user: object
    via: str
    reason: str
    now: datetime.datetime

    @classmethod
    def of(cls, *, user, via, reason=""):
        return cls(actor(user), via, reason, timezone.now())

    @property
    def user_id(self):
        return self.user.pk if self.user is not None else None

    @property
    def history(self):
        """simple-history's bulk arguments, for writes of many rows at once."""
        return {
            "default_user": self.user,
            "default_change_reason": self.reason,
            "default_date": self.now,
            "custom_historical_attrs": {"history_via": self.via},
        }


def import_stamp(*, user, filename):
    reason = f"Imported from {filename}" if filename else "Imported from CSV"
    return Stamp.of(user=user, via=StatusChange.Via.IMPORT, reason=reason)


def save_audited(obj, *, user, via, reason=None, **save_kwargs):
    """Save with the history row stamped with the user, the door and an optional reason."""
    obj._history_user = actor(user)  # simple-history's hook for writes made outside a request
    if reason:
        obj._change_reason = reason
    with audit_context(via):
        obj.save(**save_kwargs)
    data_written(using=obj._state.db or DEFAULT_DB_ALIAS)


def data_written(*, using=DEFAULT_DB_ALIAS):
    """Public responses cached under the data version are stale once this write commits."""
    note_write(connections[using])


STATUS_CHANGE_COLUMNS = (
    "enrollment_id",
    "from_status",
    "to_status",
    "changed_at",
    "effective_on",
    "changed_by_id",
    "via",
    "note",
    "source_id",
    "correction_of_id",
    "correction_reason",
)
# `status_change_values(source_id=FROM_ROW)`: the status cites the source written with it in the
# same row (a file's row names its source beside its status). Per-row services never use it: a
# staff change cites the source chosen with it, or none ("no source recorded").
FROM_ROW = object()


def status_change_values(
    *,
    enrollment,
    from_status,
    to_status=None,
    user_id=None,
    via,
    note="",
    source_id=FROM_ROW,
    changed_at,
    correction_of_id=None,
    correction_reason="",
):
    """THE status-change row, as its column values: the per-row services save it, the importer and
    the generator write many at once (`db.bulk`). `enrollment` is anything with the enrollment's
    id, status, dates and source id; the date the status took effect comes from those dates
    (`Enrollment.effective_on`). The source is the one given (None: no source recorded), or with
    FROM_ROW the source written in the same row (an import's row). A correction names the record
    it corrects and why; it is shown on that record, not as a new event."""
    to_status = enrollment.status if to_status is None else to_status
    note = (note or "").strip()
    if len(note) > STATUS_NOTE_MAX_LENGTH:
        raise ValidationError(
            {
                "note": gettext("A status change's note has at most %(limit)d characters (it has %(n)d).")
                % {"limit": STATUS_NOTE_MAX_LENGTH, "n": len(note)}
            }
        )
    if correction_of_id is not None and not correction_reason.strip():
        raise ValidationError({"correction_reason": "Say why the earlier record was wrong."})
    return {
        "enrollment_id": enrollment.pk,
        "from_status": from_status,
        "to_status": to_status,
        "changed_at": changed_at,
        "effective_on": Enrollment.effective_on(
            to_status, letter_sent_on=enrollment.letter_sent_on, joined_on=enrollment.joined_on
        ),
        "changed_by_id": user_id,
        "via": via,
        "note": note,
        "source_id": enrollment.source_id if source_id is FROM_ROW else source_id,
        "correction_of_id": correction_of_id,
        "correction_reason": correction_reason.strip() if correction_of_id is not None else "",
    }


def status_change_record(
    *,
    enrollment,
    from_status,
    to_status=None,
    user=None,
    via,
    note="",
    source=None,
    changed_at=None,
    correction_of=None,
    correction_reason="",
):
    """Append a step to the enrollment's timeline (status changes are never edited afterwards).

    `source` is the document chosen with this change; None records "no source" (never the
    enrollment's earlier source, which reported the earlier status)."""
    user = actor(user)
    values = status_change_values(
        enrollment=enrollment,
        from_status=from_status,
        to_status=to_status,
        user_id=user.pk if user else None,
        via=via,
        note=note,
        source_id=source.pk if source is not None else None,
        changed_at=changed_at or timezone.now(),
        correction_of_id=correction_of.pk if correction_of is not None else None,
        correction_reason=correction_reason,
    )
    row = StatusChange.objects.create(**values)
    events_record([events.status_changed(enrollment=enrollment, from_status=from_status)])
    return row


# -- helpers of the per-row services -------------------------------------------------------------


def lock_for_update(obj, *, expected_version=None):
    """Re-read `obj` under a row lock and refuse when its version moved on."""
    locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleWriteError(locked, expected_version)
    return locked


def sync(caller_obj, current):
    """Keep the caller's object in step with the database."""
    if caller_obj is not None and caller_obj is not current:
        caller_obj.__dict__.update(
            {f.attname: getattr(current, f.attname) for f in current._meta.concrete_fields}
        )
        for f in current._meta.concrete_fields:
            if f.is_relation and f.is_cached(caller_obj):
                f.delete_cached_value(caller_obj)


def assign(obj, values, allowed):
    changed = []
    for field, value in values.items():
        if field not in allowed:
            raise TypeError(f"{type(obj).__name__} has no writable field {field!r} here")
        if getattr(obj, field) != value:
            setattr(obj, field, value)
            changed.append(field)
    return changed


def create_once(obj, *, user, via, exists):
    """Validate and insert `obj`; a twin created meanwhile (the unique constraint refuses the insert)
    is a DuplicateRecordError saying which record exists, not a database error.

    `exists` is the message for the field that names the twin, as {field: message}. The insert runs
    in a savepoint so that the caller's transaction survives the refusal.
    """
    obj.full_clean()  # a twin already there is a field error here (400), like any other
    try:
        with transaction.atomic():
            save_audited(obj, user=user, via=via)
    except IntegrityError:
        raise DuplicateRecordError(exists) from None
    return obj
