"""The jurisdiction's record page: its enrollments as of a day, the timeline, the citation's
permanent address, and the lookups by Census GEOID or OCD id that redirect to it.

`jurisdiction_with_record` and `record_rows` are shared with the embeddable card (embeds.py).
"""

import copy
import functools
from typing import NamedTuple
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from geography.models import Place

from . import as_of as history
from .cache import cache_public_page
from .db.compiled import CompiledObjects
from .db.lookups import where_in
from .models import (
    Certification,
    Enrollment,
    Jurisdiction,
    StatusChange,
    answers_summary,
)

# -- jurisdiction detail -------------------------------------------------------------------------


def as_of_param(request):
    """(day or None, errors) of the page's `as_of` parameter; other parameters are refused."""
    errors = []
    unknown = sorted(set(request.GET) - {"as_of"})
    for name in unknown:
        errors.append(
            (name, name, [_("Unknown parameter “%(name)s”; this page understands as_of.") % {"name": name}])
        )
    day = None
    if request.GET.get("as_of"):
        try:
            day = history.parse(request.GET["as_of"])
        except ValidationError as exc:
            errors.append(("as_of", _("As of"), exc.messages))
    return day, errors


CHANGES = CompiledObjects(  # compiled once per process, as the record's queries below
    lambda enrollment_ids: where_in(
        StatusChange.objects.select_related("source").order_by("changed_at", "id"),
        "enrollment_id",
        enrollment_ids,
    )
)


def _timeline(enrollments, day):
    """The events of the timeline of a jurisdiction's `enrollments` (its `Record`'s), newest first
    by the date they took effect, each with its corrections (shown on it, not as events). With
    `day`, only events in effect by then. Each change gets its enrollment from those given."""
    enrolled = {enrollment.pk: enrollment for enrollment in enrollments}
    if not enrolled:
        return []
    changes = CHANGES.objects(list(enrolled))
    corrections = {}
    for change in changes:
        change.enrollment = enrolled[change.enrollment_id]
        if change.correction_of_id is not None:
            corrections.setdefault(change.correction_of_id, []).append(change)
    events = []
    for change in changes:
        if change.correction_of_id is not None:
            continue
        change.correction_list = corrections.get(change.pk, [])
        change.day = change.effective_on or timezone.localdate(change.changed_at)
        if day is None or change.day <= day:
            events.append(change)
    events.sort(key=lambda c: (c.day, c.changed_at, c.pk), reverse=True)
    return events


class Record(NamedTuple):
    """A jurisdiction, its enrollments (each with its program and documents) and their answers."""

    jurisdiction: Jurisdiction
    enrollments: list
    answers: dict  # enrollment id -> its answers, each with its requirement and documents


# Compiled once per process on PostgreSQL (db/compiled.py): building these two queries of five
# joined tables through the ORM cost twice what running them does.
ENROLLMENTS = CompiledObjects(
    lambda slug: (
        Enrollment.objects.select_related("jurisdiction", "program", "source", "site_type_source")
        .filter(jurisdiction__slug=slug)
        .order_by("program__launched_on", "program__name")
    )
)
ANSWERS = CompiledObjects(
    lambda enrollment_ids: where_in(
        Certification.objects.select_related("requirement", "source", "second_source").order_by(
            "enrollment_id", "requirement__order", "requirement__code"
        ),
        "enrollment_id",
        enrollment_ids,
    )
)


def jurisdiction_with_record(slug):
    """The `Record` of the jurisdiction of `slug`, or None. The detail page and its embeddable card
    (embeds.py) read it.

    The enrollments are read with their jurisdiction joined, so that an enrolled jurisdiction costs
    no query of its own (one without enrollments is then read alone), then their answers, each with
    its requirement: two queries."""
    enrollments = ENROLLMENTS.objects(slug)
    if not enrollments:
        jurisdiction = Jurisdiction.objects.filter(slug=slug).first()
        return None if jurisdiction is None else Record(jurisdiction, [], {})
    jurisdiction = enrollments[0].jurisdiction
    for enrollment in enrollments:
        enrollment.jurisdiction = jurisdiction  # one object, as the ORM's reverse lookup would give
    answers = {}
    for answer in ANSWERS.objects([enrollment.pk for enrollment in enrollments]):
        answers.setdefault(answer.enrollment_id, []).append(answer)
    return Record(jurisdiction, enrollments, answers)


def record_rows(record, day):
    """Each enrollment of `record` (from `jurisdiction_with_record`) as it stood at the end of
    `day` (today's record when None): its status, since when, and each requirement's answer. An
    enrollment that did not exist yet on `day` is left out."""
    jurisdiction, enrolled, answered = record
    standing = answers_then = None
    if day is not None:
        ids = [e.pk for e in enrolled]
        standing = history.statuses(day, enrollment_ids=ids)
        answers_then = history.answers(day, enrollment_ids=ids)
    rows = []
    for enrollment in enrolled:
        if standing is not None:
            if enrollment.pk not in standing:
                continue  # not enrolled yet on that day
            # The day's record: a copy of each object, so that nothing cached is changed.
            enrollment = copy.copy(enrollment)
            enrollment.status = standing[enrollment.pk].status
        # Every enrollment has one answer per requirement of its program (services.answers keeps
        # it so through program edits), in the requirements' order: the answers list them.
        answers = []
        for c in answered.get(enrollment.pk, ()):
            if answers_then is not None:
                c = copy.copy(c)
                c.answer, c.basis = answers_then.get(c.pk, (Certification.Answer.UNKNOWN, ""))
            answers.append(c)
        rows.append(
            {
                "enrollment": enrollment,
                "since": standing[enrollment.pk].since if standing else enrollment.status_since,
                "requirements": [{"requirement": c.requirement, "certification": c} for c in answers],
                "summary": answers_summary(
                    [(c.answer, c.basis) for c in answers], of=len(answers), kind=jurisdiction.kind
                ),
                "no_response_by": enrollment.no_response_by(today=day),
            }
        )
    return rows


@functools.partial(cache_public_page, per_day=True)  # the citation block shows today's date
def jurisdiction_detail(request, slug):
    day, errors = as_of_param(request)
    if errors:
        return render(request, "jurisdictions/jurisdiction_detail.html", {"errors": errors}, status=400)
    record = jurisdiction_with_record(slug)
    if record is None:
        raise Http404(_("No jurisdiction has the identifier “%(slug)s”.") % {"slug": slug})
    jurisdiction = record.jurisdiction
    programs = record_rows(record, day)
    today = timezone.localdate()
    return render(
        request,
        "jurisdictions/jurisdiction_detail.html",
        {
            "jurisdiction": jurisdiction,
            "programs": programs,
            "timeline": _timeline(record.enrollments, day),
            "as_of": day,
            "permanent_url": permanent_url(request, jurisdiction, day or today),
            "accessed_on": today,
            **_county_of(jurisdiction),
        },
    )


def _county_of(jurisdiction):
    """The county a place lies in (its reference place's), linked when the county is tracked too."""
    if jurisdiction.place_id is None or jurisdiction.kind == Jurisdiction.Kind.COUNTY:
        return {}
    county = Place.objects.filter(places__pk=jurisdiction.place_id).only("name", "geoid").first()
    if county is None:
        return {}
    tracked = Jurisdiction.objects.filter(Q(place=county) | Q(geoid=county.geoid)).only("slug").first()
    return {"county": county, "county_url": tracked.get_absolute_url() if tracked else None}


# -- lookup by identifier ------------------------------------------------------------------------


def _redirect_to_one(request, matches, *, label, value, query):
    """The jurisdiction's page, or the list filtered by the identifier when several share it."""
    found = list(matches.only("slug")[:2])
    if not found:
        raise Http404(_("No jurisdiction has the %(label)s “%(value)s”.") % {"label": label, "value": value})
    if len(found) > 1:
        return redirect(f"{reverse('jurisdictions:jurisdiction-list')}?{urlencode(query)}")
    return redirect(found[0])


def jurisdiction_by_geoid(request, geoid):
    return _redirect_to_one(
        request,
        Jurisdiction.objects.filter(geoid=geoid),
        label=gettext_lazy("Census GEOID"),
        value=geoid,
        query={"geoid": geoid},
    )


def jurisdiction_by_ocd_id(request, ocd_id):
    return _redirect_to_one(
        request,
        Jurisdiction.objects.filter(ocd_id=ocd_id),
        label=gettext_lazy("OCD division id"),
        value=ocd_id,
        query={"ocd_id": ocd_id},
    )


def permanent_url(request, jurisdiction, day):
    """The address that shows this record as it stood on `day`, whatever changes later."""
    path = f"{jurisdiction.get_absolute_url()}?{urlencode({'as_of': day.isoformat()})}"
    base = getattr(settings, "PUBLIC_BASE_URL", "") or ""
    return f"{base.rstrip('/')}{path}" if base else request.build_absolute_uri(path)
