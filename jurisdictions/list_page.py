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

from django.db.models import Count
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy, pgettext
from django.utils.translation import gettext as _

from . import as_of as history
from .models import Certification, Enrollment, Jurisdiction, Program, State, StatusChange, answers_summary
from .translation import localized
from .versioned import once_per_version

# Columns whose header sorts the list (ascending first click, then descending).
SORTABLE = (
    ("name", gettext_lazy("Name")),
    ("state", gettext_lazy("State")),
    ("status", gettext_lazy("Status")),
)
MUTED_DASH = mark_safe('<span class="muted">–</span>')


def last_changes(jurisdiction_ids, *, as_of=None):
    """{jurisdiction id: (effective day, recorded at)} of its latest status change by the date it
    took effect (the day it was recorded when its document gives none), for one page of the list.
    With `as_of`, only changes in effect by the end of that day. Corrections are not events.

    One query for the page, rather than an aggregate over the whole filtered list (which would
    have to group every matching row before the page could be cut).
    """
    latest = {}
    for jurisdiction_id, effective_on, changed_at in (
        StatusChange.objects.filter(enrollment__jurisdiction_id__in=jurisdiction_ids)
        .events()
        .values_list("enrollment__jurisdiction_id", "effective_on", "changed_at")
        .order_by()
    ):
        day = effective_on or timezone.localdate(changed_at)
        if as_of is not None and day > as_of:
            continue
        if jurisdiction_id not in latest or (day, changed_at) > latest[jurisdiction_id]:
            latest[jurisdiction_id] = (day, changed_at)
    return latest


def _programs():
    """{program slug: (name in the page's language, number of requirements)}."""
    programs = Program.objects.annotate(n=Count("requirements")).only("slug", "name", "name_es")
    return {p.slug: (localized(p, "name").text, p.n) for p in programs}


def _enrollments(jurisdictions, as_of=None):
    """{jurisdiction id: [enrollment facts]} for the page (`rows.Listed`, read with the API's
    rows), as they stood at the end of `as_of` when given (as_of.py)."""
    programs = once_per_version("list-programs", "", _programs)
    statuses = dict(Enrollment.Status.choices)
    rows = [row for j in jurisdictions for row in j.rows]
    standing = answers = None
    if as_of is not None:
        ids = {row.id for row in rows}
        standing = history.statuses(as_of, enrollment_ids=ids)
        answers = history.answers(as_of, enrollment_ids=ids)
    enrollments, by_id = {}, {}
    for row in rows:
        e = by_id.get(row.id)
        if e is None:
            if standing is not None and row.id not in standing:
                continue  # not enrolled yet on that day
            name, of = programs.get(row.program, (row.program, 0))
            status, since = (
                (standing[row.id].status, standing[row.id].since)
                if standing
                else (
                    row.status,
                    row.status_since,
                )
            )
            e = by_id[row.id] = {
                "program": name,
                "status": status,
                "label": statuses.get(status, status),
                "since": since.isoformat() if since else "",
                "answers": [],
                "of": of,
                "kind": row.jurisdiction_kind,
            }
            enrollments.setdefault(row.jurisdiction_id, []).append(e)
        if row.c_id is not None:
            answer = (row.c_answer, row.c_basis)
            if answers is not None:
                answer = answers.get(row.c_id, (Certification.Answer.UNKNOWN, ""))
            e["answers"].append(answer)
    language = get_language()
    for e in by_id.values():
        e["summary"] = answers_summary(e["answers"], of=e["of"], kind=e["kind"], language=language)
    return enrollments, len(programs) > 1


def _status_line(e, several_programs):
    tag = format_html('<span class="program-tag">{}:</span> ', e["program"]) if several_programs else ""
    since = (
        format_html(
            ' <span class="since">{0} <time datetime="{1}">{1}</time></span>',
            pgettext("status", "since"),
            e["since"],
        )
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


def _changed(change):
    """The effective date of the latest change, and separately when it was recorded."""
    if change is None:
        return MUTED_DASH
    day, recorded = change
    local = timezone.localtime(recorded)
    return format_html(
        '<time datetime="{0}">{0}</time> <span class="muted">({3} <time datetime="{1}">{2}</time>)</span>',
        day.isoformat(),
        local.isoformat(),
        local.strftime("%Y-%m-%d"),
        pgettext("list", "recorded"),
    )


def table_rows(jurisdictions, *, as_of=None):
    """The HTML of each table row of the page (`rows.Listed`), in order."""
    enrollments, several = _enrollments(jurisdictions, as_of)
    changes = last_changes([j.pk for j in jurisdictions], as_of=as_of)
    states = dict(State.choices)
    kinds = dict(Jurisdiction.Kind.choices)
    prefix, suffix = reverse("jurisdictions:jurisdiction-detail", args=["pspmarker"]).split("pspmarker")
    if as_of:  # a list as of a day links to each record as of that day
        suffix = f"{suffix}?as_of={as_of.isoformat()}"
    # The cells' labels (shown by the phone layout), escaped once for the whole page.
    labels = [
        escape(label)
        for label in (_("Name"), _("State"), _("Status"), _("Requirements met"), _("Last change"))
    ]
    not_enrolled = format_html('<span class="muted">{}</span>', _("Not enrolled"))
    rows = []
    for j in jurisdictions:
        mine = enrollments.get(j.pk, [])
        kind = (
            format_html(' <span class="kind">({})</span>', kinds[j.kind].lower()) if j.kind != "city" else ""
        )
        statuses = "".join(_status_line(e, several) for e in mine) or not_enrolled
        certified = format_html_join("", '<div class="cell-line">{}</div>', ((e["summary"],) for e in mine))
        rows.append(
            format_html(
                '<tr>\n<th scope="row" data-label="{}"><a href="{}{}{}">{}</a>{}</th>\n'
                '<td data-label="{}"><abbr title="{}">{}</abbr></td>\n'
                '<td data-label="{}"><div>{}</div></td>\n'
                '<td data-label="{}"><div>{}</div></td>\n'
                '<td data-label="{}">{}</td>\n</tr>',
                labels[0],
                prefix,
                j.slug,
                suffix,
                j.name,
                kind,
                labels[1],
                states.get(j.state, j.state),
                j.state,
                labels[2],
                mark_safe(statuses),
                labels[3],
                certified or MUTED_DASH,
                labels[4],
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
        form = filterset.form
        if "program" in form.fields:  # the program's name in the page's language, as elsewhere
            form.fields["program"].label_from_instance = lambda program: localized(program, "name").text
        return render_to_string("jurisdictions/filter_fields.html", {"form": form})

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
