"""Public pages: program overview, the filterable jurisdiction list (and its CSV), detail pages.

Thin views: the filtering is `JurisdictionFilter` (shared with the API), the queries live in the
models' QuerySet methods, and the CSV format is `csvio`'s.
"""

from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import Count, Max, Prefetch
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from .cache import cache_public_page
from .db.paging import DeferredJoinPaginator
from .filters import ANSWER_SEPARATOR, SEARCH_MAX_LENGTH, JurisdictionFilter
from .models import (
    Certification,
    Enrollment,
    Jurisdiction,
    Program,
    Requirement,
    State,
    StatusChange,
)
from .transfer import csvio

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
LATEST_CHANGES = 10
# Parameters the HTML form sends empty when a control is left at "any"; an empty value means "no filter".
OPTIONAL_LIST_PARAMS = ("answer", "state", "kind", "status", "program", "ordering", "updated_since")
ORDERING_CHOICES = [
    ("name", "Name (A to Z)"),
    ("-name", "Name (Z to A)"),
    ("state", "State (A to Z)"),
    ("status", "Status (participating first)"),
    ("-status", "Status (pending first)"),
    ("-updated_at", "Last update (newest first)"),
]


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
            latest_changes=StatusChange.objects.filter(enrollment__program=program).select_related(
                "enrollment__jurisdiction", "source"
            )[:LATEST_CHANGES],
            other_programs=Program.objects.exclude(pk=program.pk).only("slug", "name"),
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
def program_detail(request, slug):
    return _render_program(request, get_object_or_404(Program.objects.select_related("source"), slug=slug))


# -- jurisdiction list ---------------------------------------------------------------------------


def _query_data(request):
    """The query string with the empty values of a submitted form dropped (they mean "any")."""
    data = request.GET.copy()
    for name in OPTIONAL_LIST_PARAMS + ("search",):
        if name in data:
            values = [v for v in data.getlist(name) if v.strip()]
            if values:
                data.setlist(name, values)
            else:
                del data[name]
    return data


def _page_size(data, errors):
    raw = data.get("page_size", "")
    if not raw:
        return PAGE_SIZE
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE_SIZE:
        return int(raw)
    errors.append(
        ("page_size", "Rows per page", [f"Rows per page must be a whole number from 1 to {MAX_PAGE_SIZE}."])
    )
    return PAGE_SIZE


def _requirement_counts():
    return dict(Requirement.objects.values_list("program_id").annotate(n=Count("id")).order_by())


def _last_changes(jurisdiction_ids):
    """{jurisdiction id: when its latest status change was recorded}, for one page of the list.

    One query for the page, rather than an aggregate over the whole filtered list (which would
    have to group every matching row before the page could be cut).
    """
    return dict(
        StatusChange.objects.filter(enrollment__jurisdiction_id__in=jurisdiction_ids)
        .values_list("enrollment__jurisdiction_id")
        .annotate(latest=Max("changed_at"))
        .order_by()
    )


def _form_context(data):
    """What the filter form shows: every control with the value the URL carries."""
    answers = data.getlist("answer")
    requirements = []
    seen = set()
    for requirement in Requirement.objects.select_related("program").order_by(
        "program__launched_on", "program_id", "order"
    ):
        if requirement.code in seen:
            continue
        seen.add(requirement.code)
        prefix = f"{requirement.code}{ANSWER_SEPARATOR}"
        current = next((a for a in answers if a.startswith(prefix)), "")
        requirements.append(
            {
                "code": requirement.code,
                "title": requirement.title,
                "program": requirement.program.name,
                "current": current,
                "options": [(f"{prefix}{value}", label) for value, label in Certification.Answer.choices],
            }
        )
    return {
        "search": data.get("search", "")[: SEARCH_MAX_LENGTH * 2],
        "statuses": Enrollment.Status.choices[::-1],
        "selected_statuses": data.getlist("status"),
        "states": State.choices,
        "selected_states": data.getlist("state"),
        "kinds": Jurisdiction.Kind.choices,
        "selected_kinds": data.getlist("kind"),
        "programs": list(Program.objects.only("slug", "name")),
        "selected_program": data.get("program", ""),
        "answer_requirements": requirements,
        "updated_since": data.get("updated_since", "")[:40],
        "orderings": ORDERING_CHOICES,
        "selected_ordering": data.get("ordering", ""),
    }


def _error_list(filterset):
    labels = {name: f.label for name, f in filterset.filters.items()}
    errors = []
    for name, messages in filterset.form.errors.items():
        errors.append((name, labels.get(name) or name, list(messages)))
    return errors


def _csv_response(filterset):
    lines = csvio.iter_export_csv(filterset.qs, **filterset.export_scope())
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="psp-tracker-jurisdictions-{stamp}.csv"'
    return response


@cache_public_page
def jurisdiction_list(request):
    data = _query_data(request)
    wants_csv = data.get("format") == "csv"
    errors = []
    if data.get("format", "html") not in {"html", "csv"}:
        errors.append(("format", "Format", ["Use format=csv for a CSV file, or leave it out for this page."]))
    per_page = _page_size(data, errors)
    base = Jurisdiction.objects.all() if wants_csv else Jurisdiction.objects.with_enrollments()
    filterset = JurisdictionFilter(data, queryset=base)
    if not filterset.is_valid():
        errors = _error_list(filterset) + errors
    if not errors and wants_csv:
        return _csv_response(filterset)

    context = {
        "filterset": filterset,
        "form": _form_context(data),
        "errors": errors,
        "page_obj": None,
        "jurisdictions": [],
        "query": _query_without(data, "page"),
        "csv_query": _query_without(data, "page", "page_size", "format"),
    }
    status = 400 if errors else 200
    if not errors:
        paginator = DeferredJoinPaginator(filterset.qs, per_page)
        raw_page = data.get("page") or 1
        try:
            page = paginator.page(raw_page)
        except PageNotAnInteger:
            context["errors"] = [("page", "Page", ["The page number must be a whole number, e.g. page=2."])]
            status = 400
        except EmptyPage:
            context["errors"] = [
                (
                    "page",
                    "Page",
                    [
                        f"There is no page {raw_page}: this list has "
                        f"{paginator.num_pages} page{'s' if paginator.num_pages != 1 else ''}."
                    ],
                )
            ]
            status = 404
        else:
            requirement_counts = _requirement_counts()
            rows = list(page.object_list)
            last_changes = _last_changes([j.pk for j in rows])
            for jurisdiction in rows:
                jurisdiction.last_change_at = last_changes.get(jurisdiction.pk)
                jurisdiction.program_rows = [
                    {
                        "enrollment": e,
                        "yes": sum(1 for c in e.certifications.all() if c.answer == Certification.Answer.YES),
                        "of": requirement_counts.get(e.program_id, 0),
                    }
                    for e in jurisdiction.enrollments.all()
                ]
            context.update(
                page_obj=page,
                paginator=paginator,
                jurisdictions=rows,
                is_paginated=paginator.num_pages > 1,
            )
    return render(request, "jurisdictions/jurisdiction_list.html", context, status=status)


def _query_without(data, *names):
    copy = data.copy()
    for name in names:
        copy.pop(name, None)
    return copy.urlencode()


# -- jurisdiction detail -------------------------------------------------------------------------


@cache_public_page
def jurisdiction_detail(request, slug):
    enrollments = Enrollment.objects.select_related("program", "source").prefetch_related(
        Prefetch(
            "certifications",
            queryset=Certification.objects.select_related("requirement", "source").order_by(
                "requirement__order", "requirement__code"
            ),
        ),
        "program__requirements",
    )
    try:
        jurisdiction = Jurisdiction.objects.prefetch_related(
            Prefetch("enrollments", queryset=enrollments.order_by("program__launched_on", "program__name"))
        ).get(slug=slug)
    except Jurisdiction.DoesNotExist:
        raise Http404(f"No jurisdiction has the identifier “{slug}”.") from None

    programs = []
    for enrollment in jurisdiction.enrollments.all():
        answers = {c.requirement_id: c for c in enrollment.certifications.all()}
        programs.append(
            {
                "enrollment": enrollment,
                "requirements": [
                    {"requirement": r, "certification": answers.get(r.pk)}
                    for r in enrollment.program.requirements.all()
                ],
                "yes": sum(1 for c in answers.values() if c.answer == Certification.Answer.YES),
            }
        )
    timeline = StatusChange.objects.filter(enrollment__jurisdiction=jurisdiction).select_related(
        "enrollment__program", "source"
    )
    return render(
        request,
        "jurisdictions/jurisdiction_detail.html",
        {"jurisdiction": jurisdiction, "programs": programs, "timeline": timeline},
    )
