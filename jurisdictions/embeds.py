"""Embeddable status cards (issue 19): a jurisdiction's status and answers, a program's counts.

Small pages of their own (templates/embeds/, static/css/embed.css) that any site may frame: their
CSP says `frame-ancestors *` and they carry no X-Frame-Options (psp_tracker/guards.py skips it for
responses marked `xframe_options_exempt`); every other page stays `DENY`. They need no script, set
no cookie (no form, no session, no language cookie) and track nothing. Cached under the data
version like every public page; the framing headers are added outside the cache, so a cached hit
and a 304 carry them too. Every fact names the document it comes from, as on the detail page.
"""

import functools

from csp.decorators import csp_replace
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt

from .cache import cache_public_page
from .models import Enrollment, Program, StatusChange
from .record import as_of_param, jurisdiction_with_record, record_rows


def frameable(view):
    """Let any site frame the view's responses (cached hits, 304s and 404s included)."""
    return xframe_options_exempt(csp_replace({"frame-ancestors": ["*"]})(view))


def _not_found(request, what, slug):
    return render(request, "embeds/not_found.html", {"what": what, "slug": slug}, status=404)


def _recorded_on(rows, day):
    """{enrollment id: the day the tracker recorded the status of its row (`record_rows`)}, in one
    query: the latest change to that status that had taken effect by `day` (any day when None)."""
    wanted = {row["enrollment"].pk: row["enrollment"].status for row in rows}
    recorded = {}
    changes = StatusChange.objects.filter(enrollment_id__in=list(wanted)).values_list(
        "enrollment_id", "to_status", "effective_on", "changed_at"
    )
    for enrollment_id, to_status, effective_on, changed_at in changes:
        if to_status != wanted[enrollment_id]:
            continue
        if day is not None and (effective_on or timezone.localdate(changed_at)) > day:
            continue
        if enrollment_id not in recorded or changed_at > recorded[enrollment_id]:
            recorded[enrollment_id] = changed_at
    return {pk: timezone.localdate(at) for pk, at in recorded.items()}


@frameable
@functools.partial(cache_public_page, per_day=True)  # the card shows today's date
def jurisdiction_embed(request, slug):
    day, errors = as_of_param(request)
    if errors:
        return render(request, "embeds/bad_request.html", {"errors": errors}, status=400)
    record = jurisdiction_with_record(slug)
    if record is None:
        return _not_found(request, "jurisdiction", slug)
    jurisdiction = record.jurisdiction
    rows = record_rows(record, day)
    recorded = _recorded_on(rows, day)
    for row in rows:
        row["recorded_on"] = recorded.get(row["enrollment"].pk)
    context = {
        "jurisdiction": jurisdiction,
        "rows": rows,
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
