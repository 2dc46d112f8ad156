"""What the public list page shows besides the FilterSet's own work: its table rows, its sort
headers and its filter form, each built so that a page costs about what the API's page costs.

* The rows come from the API's query of the page's enrollments and answers (rows.py) and are
  written here, with `format_html`, rather than by a template loop: the template engine spent about
  4 ms on 50 rows (a node per cell, a lookup per attribute), where the API spends well under one on
  the same data (docs/performance.md).
* The filter form is the FilterSet's form, rendered by its widgets (filters.py, widgets.py); its
  HTML depends only on the filter values and the data (programs, requirements), so it is rendered
  once per filter and data version (versioned.py): about 4 ms saved on every other page of a filter.
"""

from django.db.models import Count, Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from .models import Certification, Enrollment, Jurisdiction, Program, State, StatusChange
from .rows import enrollment_rows
from .versioned import once_per_version

# Columns whose header sorts the list (ascending first click, then descending).
SORTABLE = (("name", "Name"), ("state", "State"), ("status", "Status"))
MUTED_DASH = mark_safe('<span class="muted">–</span>')


def last_changes(jurisdiction_ids):
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


def _programs():
    """{program slug: (name, number of requirements)}."""
    rows = Program.objects.annotate(n=Count("requirements")).values_list("slug", "name", "n")
    return {slug: (name, n) for slug, name, n in rows}


def _enrollments(jurisdictions):
    """{jurisdiction id: [enrollment facts]} for the page, from the API's rows."""
    programs = once_per_version("list-programs", "", _programs)
    statuses = dict(Enrollment.Status.choices)
    enrollments, by_id = {}, {}
    for row in enrollment_rows(jurisdiction_ids=[j.pk for j in jurisdictions]):
        e = by_id.get(row.id)
        if e is None:
            name, of = programs.get(row.program, (row.program, 0))
            since = row.status_since
            e = by_id[row.id] = {
                "program": name,
                "status": row.status,
                "label": statuses.get(row.status, row.status),
                "since": since.isoformat() if since else "",
                "yes": 0,
                "of": of,
            }
            enrollments.setdefault(row.jurisdiction_id, []).append(e)
        if row.c_answer == Certification.Answer.YES:
            e["yes"] += 1
    return enrollments, len(programs) > 1


def _status_line(e, several_programs):
    tag = format_html('<span class="program-tag">{}:</span> ', e["program"]) if several_programs else ""
    since = (
        format_html(' <span class="since">since <time datetime="{0}">{0}</time></span>', e["since"])
        if e["since"]
        else ""
    )
    return format_html(
        '<div class="cell-line">{}<span class="status status--{}">{}</span>{}</div>',
        tag,
        e["status"],
        e["label"],
        since,
    )


def _changed(moment):
    if moment is None:
        return MUTED_DASH
    local = timezone.localtime(moment)
    return format_html('<time datetime="{}">{}</time>', local.isoformat(), local.strftime("%Y-%m-%d"))


def table_rows(jurisdictions):
    """The HTML of each table row of the page, in order."""
    enrollments, several = _enrollments(jurisdictions)
    changes = last_changes([j.pk for j in jurisdictions])
    states = dict(State.choices)
    kinds = dict(Jurisdiction.Kind.choices)
    prefix, suffix = reverse("jurisdictions:jurisdiction-detail", args=["pspmarker"]).split("pspmarker")
    rows = []
    for j in jurisdictions:
        mine = enrollments.get(j.pk, [])
        kind = (
            format_html(' <span class="kind">({})</span>', kinds[j.kind].lower()) if j.kind != "city" else ""
        )
        statuses = "".join(_status_line(e, several) for e in mine) or mark_safe(
            '<span class="muted">Not enrolled</span>'
        )
        certified = format_html_join(
            "", '<div class="cell-line">{} of {}</div>', ((e["yes"], e["of"]) for e in mine)
        )
        rows.append(
            format_html(
                '<tr>\n<th scope="row" data-label="Name"><a href="{}{}{}">{}</a>{}</th>\n'
                '<td data-label="State"><abbr title="{}">{}</abbr></td>\n'
                '<td data-label="Status"><div>{}</div></td>\n'
                '<td data-label="Requirements certified"><div>{}</div></td>\n'
                '<td data-label="Last change">{}</td>\n</tr>',
                prefix,
                j.slug,
                suffix,
                j.name,
                kind,
                states.get(j.state, j.state),
                j.state,
                mark_safe(statuses),
                certified or MUTED_DASH,
                _changed(changes.get(j.pk)),
            )
        )
    return rows


def sorting(filterset, query):
    """The caption's words for the order shown, and each sortable header's state and link query."""
    ordering = query.get("ordering", "") if not filterset.errors else ""
    labels = dict(filterset.form.fields["ordering"].choices)
    current = ordering or "name"
    label = labels.get(current, labels["name"])
    columns = []
    for key, title in SORTABLE:
        if current == key:
            aria, next_order = "ascending", f"-{key}"
        elif current == f"-{key}":
            aria, next_order = "descending", key
        else:
            aria, next_order = "", key
        columns.append({"title": title, "aria_sort": aria, "query": query_with(query, ordering=next_order)})
    return label[:1].lower() + label[1:], columns


def form_html(filterset):
    """The filter form's controls (the FilterSet's form), once per filter and data version."""

    def render():
        return render_to_string("jurisdictions/filter_fields.html", {"form": filterset.form})

    if filterset.errors:  # shown with the values as sent, and rare: not kept
        return render()
    data = filterset.data
    key = sorted((name, value) for name in data if name in filterset.filters for value in data.getlist(name))
    return mark_safe(once_per_version("filter-form", repr(key), render))


def query_with(data, **changes):
    """The query string of `data` with each named parameter set (None: removed)."""
    copy = data.copy()
    for name, value in changes.items():
        copy.pop(name, None)
        if value is not None:
            copy[name] = value
    return copy.urlencode()
