"""Public pages: program overview, the filterable jurisdiction list (and its CSV), detail pages.

Thin views: the filtering is `JurisdictionFilter` (shared with the API), the queries live in the
models' QuerySet methods, and the CSV format is `csvio`'s.
"""

import copy
import functools
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import Count, Prefetch, Q
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from geography.models import Place
from psp_tracker.middleware import client_ip
from psp_tracker.ratelimit import Rate, count_hit, too_many_requests

from . import as_of as history
from . import list_page, services
from .cache import cache_public_page
from .db.paging import ListPaginator
from .filters import JurisdictionFilter
from .filtersets import NON_FILTER_PARAMS
from .forms import ErrorReportForm
from .map_marks import enrollments_of, map_context
from .models import (
    Certification,
    Enrollment,
    Jurisdiction,
    Program,
    Source,
    State,
    StatusChange,
    answers_summary,
)
from .rows import listed
from .transfer import csvio
from .translation import localized
from .versioned import once_per_version

MAP_DESCRIPTION = gettext_lazy(
    "Each jurisdiction is a mark at its location: a circle when participating, a triangle when sent a "
    "letter, a square when pending."
)

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
LATEST_CHANGES = 10


# -- program overview ----------------------------------------------------------------------------


def _participation_by_state(program):
    """Rows of (state code, state name, {status: n}, total) for the program, most enrollments first."""
    rows = {}
    for state, status, n in (
        Enrollment.objects.filter(program=program)
        .values_list("jurisdiction__state", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        rows.setdefault(state, dict.fromkeys(Enrollment.Status.values, 0))[status] = n
    names = dict(State.choices)
    table = [
        {"code": code, "name": names.get(code, code), "counts": counts, "total": sum(counts.values())}
        for code, counts in rows.items()
    ]
    table.sort(key=lambda r: (-r["total"], r["name"]))
    widest = max((r["total"] for r in table), default=0)
    for row in table:
        # Bar segments in a 0..100 viewBox: one rectangle per status, participating first.
        x = 0.0
        row["segments"] = []
        row["cells"] = []
        for status, label in Enrollment.Status.choices[::-1]:
            n = row["counts"][status]
            row["cells"].append(n)
            width = 100.0 * n / widest if widest else 0
            if n:
                row["segments"].append({"status": status, "label": label, "x": x, "width": width})
            x += width
    return table


def _render_program(request, program, *, status=200):
    context = {"program": program}
    if program is not None:
        counts = program.status_counts()
        context.update(
            requirements=list(program.requirements.all()),
            status_rows=[
                {"value": value, "label": label, "count": counts[value]}
                for value, label in Enrollment.Status.choices[::-1]
            ],
            total=sum(counts.values()),
            by_state=_participation_by_state(program),
            statuses=Enrollment.Status.choices[::-1],
            latest_changes=StatusChange.objects.filter(enrollment__program=program)
            .events()
            .select_related("enrollment__jurisdiction", "source")[:LATEST_CHANGES],
            other_programs=Program.objects.exclude(pk=program.pk).only("slug", "name", "name_es"),
            usmap=map_context(
                Enrollment.objects.filter(program=program),
                title=_("Map of the jurisdictions enrolled in the %(program)s")
                % {"program": localized(program, "name").text},
                description=str(MAP_DESCRIPTION),
                table_url=f"{reverse('jurisdictions:jurisdiction-list')}?{urlencode({'program': program.slug})}",
            ),
        )
    return render(request, "jurisdictions/program_detail.html", context, status=status)


@cache_public_page
def home(request):
    """The overview of the Public Safety Partnership (or of the first program when it is absent)."""
    program = Program.objects.select_related("source").filter(slug="psp").first()
    if program is None:
        program = Program.objects.select_related("source").first()
    return _render_program(request, program)


@cache_public_page
def program_list(request):
    """Every program with its agency, dates, number of requirements and enrollments per status."""
    programs = Program.objects.select_related("source").with_overview()
    statuses = Enrollment.Status.choices[::-1]
    rows = [
        {"program": program, "counts": [(value, getattr(program, f"n_{value}")) for value, _ in statuses]}
        for program in programs
    ]
    return render(request, "jurisdictions/program_list.html", {"rows": rows, "statuses": statuses})


@cache_public_page
def program_detail(request, slug):
    return _render_program(request, get_object_or_404(Program.objects.select_related("source"), slug=slug))


# -- jurisdiction list ---------------------------------------------------------------------------


def _page_size(data, errors):
    raw = data.get("page_size", "")
    if not raw:
        return PAGE_SIZE
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE_SIZE:
        return int(raw)
    errors.append(
        (
            "page_size",
            _("Rows per page"),
            [_("Rows per page must be a whole number from 1 to %(max)d.") % {"max": MAX_PAGE_SIZE}],
        )
    )
    return PAGE_SIZE


def _error_list(filterset):
    labels = {name: f.label for name, f in filterset.filters.items()}
    errors = []
    for name, messages in filterset.form.errors.items():
        errors.append((name, labels.get(name) or name, list(messages)))
    return errors


def _csv_response(filterset):
    """The filtered list as CSV (as it stood on a day, with as_of)."""
    lines = csvio.iter_export_csv(filterset.qs, **filterset.export_scope())
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="psp-tracker-jurisdictions-{stamp}.csv"'
    return response


@cache_public_page
def jurisdiction_list(request):
    data = request.GET
    wants_csv = data.get("format") == "csv"
    errors = []
    if data.get("format", "html") not in {"html", "csv"}:
        errors.append(
            ("format", _("Format"), [_("Use format=csv for a CSV file, or leave it out for this page.")])
        )
    if "cursor" in data:
        errors.append(
            (
                "cursor",
                _("Cursor"),
                [_("Cursors walk the API's list (/api/v1/jurisdictions/); use page here.")],
            )
        )
    per_page = _page_size(data, errors)
    filterset = JurisdictionFilter(data, queryset=Jurisdiction.objects.all())
    if not filterset.is_valid():
        errors = _error_list(filterset) + errors
    if not errors and wants_csv:
        return _csv_response(filterset)

    query = filterset.data.copy()  # the filters without their empty values
    for name in NON_FILTER_PARAMS - {"page_size"}:
        query.pop(name, None)
    sorted_by, columns = list_page.sorting(filterset, query)
    context = {
        "form_html": list_page.form_html(filterset),
        "errors": errors,
        "page_obj": None,
        "jurisdictions": [],
        "rows": [],
        "query": query.urlencode(),
        "csv_query": list_page.query_with(query, page_size=None, format="csv"),
        # The feed of the same list: the same filters (feeds.FilteredStatusChangesFeed).
        "feed_query": list_page.query_with(query, page_size=None),
        "sorted_by": sorted_by,
        "columns": columns,
    }
    as_of = None if errors else filterset.as_of_day()
    context["as_of"] = as_of
    status = 400 if errors else 200
    if not errors:
        # Each jurisdiction of the page read with its enrollments and answers (rows.listed), as
        # the API reads its pages: one statement on PostgreSQL.
        paginator = ListPaginator(filterset.qs, per_page, count_key=filterset.count_key(), read=listed)
        raw_page = data.get("page") or "1"
        try:
            page = paginator.page(
                int(raw_page)
                if raw_page.isascii() and raw_page.isdigit() and len(raw_page) <= 18
                else raw_page
            )
        except PageNotAnInteger:
            context["errors"] = [
                ("page", _("Page"), [_("The page number must be a whole number, e.g. page=2.")])
            ]
            status = 400
        except EmptyPage:
            pages = paginator.num_pages
            context["errors"] = [
                (
                    "page",
                    _("Page"),
                    [
                        ngettext(
                            "There is no page %(page)s: this list has %(count)d page.",
                            "There is no page %(page)s: this list has %(count)d pages.",
                            pages,
                        )
                        % {"page": raw_page, "count": pages}
                    ],
                )
            ]
            status = 404
        else:
            jurisdictions = list(page.object_list)
            scope = filterset.export_scope()  # the map shows what the CSV would (with as_of: that day)
            context.update(
                page_obj=page,
                paginator=paginator,
                jurisdictions=jurisdictions,
                rows=list_page.table_rows(jurisdictions, as_of=as_of),
                is_paginated=paginator.num_pages > 1,
                # The map shows every matching jurisdiction (not only this page), from the same
                # FilterSet, so it follows each filter the list has.
                # Kept per filter and data version, like the count: other pages of the same
                # filter reuse it.
                usmap=once_per_version(
                    "map",
                    filterset.count_key(),
                    lambda: map_context(
                        enrollments_of(filterset.qs, programs=scope["programs"], statuses=scope["statuses"]),
                        as_of=scope["as_of"],
                        title=_("Map of the jurisdictions matching the filters"),
                        description=str(MAP_DESCRIPTION),
                        table_url="#results-table",
                        inline_table=False,
                    ),
                ),
                geojson_url=f"{reverse('api:jurisdiction-list')}?"
                + list_page.query_with(query, page_size=None, format="geojson"),
            )
    return render(request, "jurisdictions/jurisdiction_list.html", context, status=status)


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


def _timeline(jurisdiction, day):
    """The events of the jurisdiction's timeline, newest first by the date they took effect, each
    with its corrections (shown on it, not as events). With `day`, only events in effect by then."""
    changes = list(
        StatusChange.objects.filter(enrollment__jurisdiction=jurisdiction)
        .select_related("enrollment__program", "source", "correction_of")
        .order_by("changed_at", "id")
    )
    corrections = {}
    for change in changes:
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


def jurisdiction_with_record(slug):
    """The jurisdiction of `slug` with its enrollments, their documents and answers prefetched (a
    fixed number of queries), or None. The detail page and its embeddable card (embeds.py) read it."""
    enrollments = Enrollment.objects.select_related("program", "source", "site_type_source").prefetch_related(
        Prefetch(
            "certifications",
            queryset=Certification.objects.select_related("requirement", "source", "second_source").order_by(
                "requirement__order", "requirement__code"
            ),
        ),
        "program__requirements",
    )
    return (
        Jurisdiction.objects.prefetch_related(
            Prefetch("enrollments", queryset=enrollments.order_by("program__launched_on", "program__name"))
        )
        .filter(slug=slug)
        .first()
    )


def record_rows(jurisdiction, day):
    """Each enrollment of `jurisdiction` (from `jurisdiction_with_record`) as it stood at the end of
    `day` (today's record when None): its status, since when, and each requirement's answer. An
    enrollment that did not exist yet on `day` is left out."""
    enrolled = list(jurisdiction.enrollments.all())
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
        answers = {}
        for c in enrollment.certifications.all():
            if answers_then is not None:
                c = copy.copy(c)
                c.answer, c.basis = answers_then.get(c.pk, (Certification.Answer.UNKNOWN, ""))
            answers[c.requirement_id] = c
        requirements = list(enrollment.program.requirements.all())
        rows.append(
            {
                "enrollment": enrollment,
                "since": standing[enrollment.pk].since if standing else enrollment.status_since,
                "requirements": [
                    {"requirement": r, "certification": answers.get(r.pk)} for r in requirements
                ],
                "summary": answers_summary(
                    [(c.answer, c.basis) for c in answers.values()],
                    of=len(requirements),
                    kind=jurisdiction.kind,
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
    jurisdiction = jurisdiction_with_record(slug)
    if jurisdiction is None:
        raise Http404(_("No jurisdiction has the identifier “%(slug)s”.") % {"slug": slug})
    programs = record_rows(jurisdiction, day)
    today = timezone.localdate()
    return render(
        request,
        "jurisdictions/jurisdiction_detail.html",
        {
            "jurisdiction": jurisdiction,
            "programs": programs,
            "timeline": _timeline(jurisdiction, day),
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


# -- sources, corrections, methodology -------------------------------------------------------------


@cache_public_page
def source_detail(request, pk):
    """A document and every fact of the tracker that cites it."""
    source = get_object_or_404(Source, pk=pk)
    enrollments = source.enrollments.select_related("jurisdiction", "program").order_by("jurisdiction__name")
    site_types = source.site_type_enrollments.select_related("jurisdiction", "program").order_by(
        "jurisdiction__name"
    )
    answers = (
        Certification.objects.filter(Q(source=source) | Q(second_source=source))
        .select_related("enrollment__jurisdiction", "requirement")
        .order_by("enrollment__jurisdiction__name", "requirement__order")
    )
    changes = source.status_changes.select_related("enrollment__jurisdiction", "enrollment__program")
    return render(
        request,
        "jurisdictions/source_detail.html",
        {
            "source": source,
            "enrollments": enrollments,
            "site_types": site_types,
            "answers": answers,
            "changes": changes,
            "programs": source.programs.all(),
        },
    )


@cache_public_page
def corrections(request):
    """Every correction of the record, newest first, with what it corrected and why."""
    found = (
        StatusChange.objects.corrections()
        .select_related("enrollment__jurisdiction", "enrollment__program", "source", "correction_of")
        .order_by("-changed_at", "-id")
    )
    return render(request, "jurisdictions/corrections.html", {"corrections": found})


@cache_public_page
def methodology(request):
    return render(
        request,
        "jurisdictions/methodology.html",
        {
            "statuses": Enrollment.Status.choices,
            "answers": Certification.Answer.choices,
            "bases": Certification.Basis.choices,
            "kinds": Source.Kind.choices,
        },
    )


# -- report an error (not cached: the form sets a CSRF cookie) -------------------------------------


def report_error(request, slug):
    """A public form whose reports land in the staff queue (admin: Error reports); nothing sent
    here is published without a staff decision."""
    jurisdiction = get_object_or_404(Jurisdiction, slug=slug)
    form = ErrorReportForm(request.POST or None)
    status = 200
    if request.method == "POST":
        wait = None
        if not request.user.is_authenticated:
            wait = count_hit("error-report", client_ip(request), Rate.parse(settings.ERROR_REPORT_RATE))
        if wait is not None:
            return too_many_requests(request, wait, "error reports")
        if form.is_valid():
            services.error_report_submit(
                jurisdiction=jurisdiction,
                message=form.cleaned_data["message"],
                evidence_url=form.cleaned_data["evidence_url"],
                contact=form.cleaned_data["contact"],
            )
            return render(request, "jurisdictions/report_sent.html", {"jurisdiction": jurisdiction})
        status = 400
    return render(
        request, "jurisdictions/report_form.html", {"jurisdiction": jurisdiction, "form": form}, status=status
    )
