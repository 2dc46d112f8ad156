"""The record as it stood at the end of a given day, rebuilt from the history.

Statuses come from the timeline (StatusChange): a change counts from the day it took effect
(`effective_on`, the date its document gives), or the day it was recorded when no such date is
known. A correction stands in for the record it corrects: the corrected fact replaces the wrong
one; a withdrawn step (corrected back to the status before it) did not happen. An enrollment whose
first step is later than the day did not exist yet.

Answers come from each answer's audit history: a version of an answer counts from the date of
its certification, else the date of the document it cites, else the day it was recorded. A day
before any version counted has no answer yet (shown as unknown).

Both are read for the records a page shows, or for every enrollment when a list is filtered as of
a day (a query over the status-change table; at national scale a second or so, then cached per
data version like any page).
"""

import datetime
from dataclasses import dataclass

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Certification, StatusChange

PARAM = "as_of"


def parse(value, *, today=None):
    """The day `as_of=YYYY-MM-DD` names; a ValidationError (naming the parameter's rule) otherwise."""
    today = today or timezone.localdate()
    try:
        day = datetime.date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise forms.ValidationError(
            _("“%(value)s” is not a date; write as_of as YYYY-MM-DD, e.g. 2017-07-01."),
            code="invalid",
            params={"value": value[:40]},
        )
    if day > today:
        raise forms.ValidationError(
            _("%(value)s is in the future; as_of can be at most today (%(today)s)."),
            code="future",
            params={"value": value, "today": today.isoformat()},
        )
    return day


@dataclass(frozen=True)
class Standing:
    status: str
    since: datetime.date | None  # the day the standing status took effect


def _day(effective_on, changed_at):
    return effective_on or timezone.localdate(changed_at)


def statuses(day, *, enrollment_ids=None):
    """{enrollment id: Standing} at the end of `day`, for enrollments that existed then."""
    changes = StatusChange.objects.order_by()
    if enrollment_ids is not None:
        changes = changes.filter(enrollment_id__in=list(enrollment_ids))
    rows = list(
        changes.values_list(
            "id",
            "enrollment_id",
            "from_status",
            "to_status",
            "effective_on",
            "changed_at",
            "correction_of_id",
        )
    )
    corrected = {}  # id of the corrected record: its latest correction
    for row in sorted((r for r in rows if r[6] is not None), key=lambda r: (r[5], r[0])):
        corrected[row[6]] = row
    timeline = {}
    for pk, enrollment_id, from_status, to_status, effective_on, changed_at, correction_of in rows:
        if correction_of is not None:
            continue
        correction = corrected.get(pk)
        if correction is not None:
            if correction[3] == from_status:
                continue  # withdrawn: the step did not happen
            to_status = correction[3]
            effective_on = correction[4] or effective_on
        when = _day(effective_on, changed_at)
        if when <= day:
            timeline.setdefault(enrollment_id, []).append((when, changed_at, pk, to_status))
    standing = {}
    for enrollment_id, steps in timeline.items():
        when, _, _, status = max(steps)
        standing[enrollment_id] = Standing(status, when)
    return standing


def answer_versions(day, *, enrollment_ids):
    """{certification id: (enrollment id, requirement id, answer, basis)} at the end of `day`;
    absent when no version of the answer counted yet."""
    history = (
        Certification.history.filter(enrollment_id__in=list(enrollment_ids))
        .exclude(history_type="-")
        .order_by("id", "history_date", "history_id")
        .values_list(
            "id",
            "enrollment_id",
            "requirement_id",
            "answer",
            "basis",
            "certified_on",
            "source__published_on",
            "history_date",
        )
    )
    found = {}
    for pk, enrollment_id, requirement_id, answer, basis, certified_on, published_on, recorded in history:
        if (certified_on or published_on or timezone.localdate(recorded)) <= day:
            found[pk] = (enrollment_id, requirement_id, answer, basis)
    return found


def answers(day, *, enrollment_ids):
    """{certification id: (answer, basis)} at the end of `day`."""
    return {pk: v[2:] for pk, v in answer_versions(day, enrollment_ids=enrollment_ids).items()}
