"""Public pages: program overview and the filterable jurisdiction list (and its CSV). A jurisdiction's
record page is record.py's; the document, corrections, methodology and report pages are pages.py's.

Thin views: the filtering is `JurisdictionFilter` (shared with the API), the queries live in the
models' QuerySet methods, and the CSV format is `csvio`'s.
"""

from urllib.parse import urlencode

from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import Count
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from . import list_page
from .cache import cache_public_page
from .db.paging import ListPaginator
from .filters import JurisdictionFilter
from .filtersets import NON_FILTER_PARAMS
from .map_marks import enrollments_of, map_context
from .models import (
    Enrollment,
    Jurisdiction,
    Program,
    State,
    StatusChange,
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
