"""Embeddable status cards (issue 19): a jurisdiction's status and answers, a program's counts.

Small pages of their own (templates/embeds/, static/css/embed.css) that any site may frame: their
CSP says `frame-ancestors *` and they carry no X-Frame-Options (psp_tracker/guards.py skips it for
responses marked `xframe_options_exempt`); every other page stays `DENY`. They need no script, set
no cookie (no form, no session, no language cookie) and track nothing. Cached under the data
version like every public page; the framing headers are added outside the cache, so a cached hit
and a 304 carry them too. Every fact names the document it comes from, as on the detail page.
"""

import copy
import functools

from csp.decorators import csp_replace
from django.db.models import Prefetch
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt

from . import as_of as history
from .cache import cache_public_page
from .models import Certification, Enrollment, Jurisdiction, Program, StatusChange
from .views import as_of_param


def frameable(view):
    """Let any site frame the view's responses (cached hits, 304s and 404s included)."""
    return xframe_options_exempt(csp_replace({"frame-ancestors": ["*"]})(view))


def _not_found(request, what, slug):
    return render(request, "embeds/not_found.html", {"what": what, "slug": slug}, status=404)


def _recorded_on(enrollments, standing, day):
    """{enrollment id: the day the tracker recorded its (standing) status}, in one query: the
    latest change to that status that had taken effect by `day` (any day when None)."""
    wanted = {e.pk: (standing[e.pk].status if standing else e.status) for e in enrollments}
    recorded = {}
    rows = StatusChange.objects.filter(enrollment_id__in=list(wanted)).values_list(
        "enrollment_id", "to_status", "effective_on", "changed_at"
    )
    for enrollment_id, to_status, effective_on, changed_at in rows:
        if to_status != wanted[enrollment_id]:
            continue
        if day is not None and (effective_on or timezone.localdate(changed_at)) > day:
            continue
        if enrollment_id not in recorded or changed_at > recorded[enrollment_id]:
            recorded[enrollment_id] = changed_at
    return {pk: timezone.localdate(at) for pk, at in recorded.items()}


def _enrollment_rows(jurisdiction, day):
    """The card's rows: each enrollment's status (as it stood on `day`), the day it took effect,
    the day it was recorded, and each requirement's answer with its document."""
    enrolled = list(jurisdiction.enrollments.all())
    standing = answers_then = None
    if day is not None:
        ids = [e.pk for e in enrolled]
        standing = history.statuses(day, enrollment_ids=ids)
        answers_then = history.answers(day, enrollment_ids=ids)
        enrolled = [e for e in enrolled if e.pk in standing]  # not enrolled yet on that day
    recorded = _recorded_on(enrolled, standing, day)
    rows = []
    for enrollment in enrolled:
        if standing is not None:
            enrollment = copy.copy(enrollment)  # the day's record; nothing cached is changed
            enrollment.status = standing[enrollment.pk].status
        answers = {}
        for c in enrollment.certifications.all():
            if answers_then is not None:
                c = copy.copy(c)
                c.answer, c.basis = answers_then.get(c.pk, (Certification.Answer.UNKNOWN, ""))
            answers[c.requirement_id] = c
        rows.append(
            {
                "enrollment": enrollment,
                "since": standing[enrollment.pk].since if standing else enrollment.status_since,
                "recorded_on": recorded.get(enrollment.pk),
                "answers": [
                    {"requirement": r, "certification": answers.get(r.pk)}
                    for r in enrollment.program.requirements.all()
                ],
            }
        )
    return rows


@frameable
@functools.partial(cache_public_page, per_day=True)  # the card shows today's date
def jurisdiction_embed(request, slug):
    day, errors = as_of_param(request)
    if errors:
        return render(request, "embeds/bad_request.html", {"errors": errors}, status=400)
    enrollments = Enrollment.objects.select_related("program", "source").prefetch_related(
        Prefetch(
            "certifications",
            queryset=Certification.objects.select_related("source").order_by(
                "requirement__order", "requirement__code"
            ),
        ),
        "program__requirements",
    )
    jurisdiction = (
        Jurisdiction.objects.prefetch_related(
            Prefetch("enrollments", queryset=enrollments.order_by("program__launched_on", "program__name"))
        )
        .filter(slug=slug)
        .first()
    )
    if jurisdiction is None:
        return _not_found(request, "jurisdiction", slug)
    context = {
        "jurisdiction": jurisdiction,
        "rows": _enrollment_rows(jurisdiction, day),
        "as_of": day,
        "today": timezone.localdate(),
    }
    return render(request, "embeds/jurisdiction_card.html", context)


@frameable
@functools.partial(cache_public_page, per_day=True)  # the counts are today's
def program_embed(request, slug):
    if request.GET:
        # A typo must not pass unnoticed, and stray parameters must not multiply cached copies.
        errors = [
            (name, name, [_("Unknown parameter “%(name)s”; this card takes none.") % {"name": name}])
            for name in sorted(request.GET)
        ]
        return render(request, "embeds/bad_request.html", {"errors": errors}, status=400)
    program = Program.objects.select_related("source").filter(slug=slug).first()
    if program is None:
        return _not_found(request, "program", slug)
    counts = program.status_counts()
    context = {
        "program": program,
        "status_rows": [
            {"value": value, "label": label, "count": counts[value]}
            for value, label in Enrollment.Status.choices[::-1]
        ],
        "total": sum(counts.values()),
        "today": timezone.localdate(),
    }
    return render(request, "embeds/program_card.html", context)
