"""The marks of the map (geography/usmap.py) for a program page or a filtered list: one per
enrolled jurisdiction that has a point, with its status (in the program shown, or the furthest
along of its enrollments when the list names no program)."""

from django.urls import reverse

from geography.usmap import SHAPES, Mark, render_map

from . import as_of as history
from .models import Enrollment

# A list filtered to more than this many points shows the first ones by name and says so: past it
# the picture is a blur and the page grows by about 150 bytes a mark.
MAP_MAX_MARKS = 10_000
# A table of the mapped jurisdictions is printed under the map up to this many; past it the map
# links to the list, whose table holds the same jurisdictions a page at a time.
MAP_TABLE_MAX = 100
RANK = {"participating": 0, "letter_sent": 1, "pending": 2}


def _rows(enrollments):
    return (
        enrollments.filter(jurisdiction__latitude__isnull=False)
        .order_by("jurisdiction__name", "jurisdiction__state", "jurisdiction_id")
        .values_list(
            "id",
            "jurisdiction_id",
            "jurisdiction__slug",
            "jurisdiction__name",
            "jurisdiction__state",
            "jurisdiction__latitude",
            "jurisdiction__longitude",
            "status",
        )
    )


def marks_for(enrollments, *, as_of=None):
    """Marks of these enrollments' jurisdictions, in name order; a jurisdiction with several
    enrollments is one mark, with the status furthest along. With `as_of` (a day), each status is
    the one that stood at the end of that day (as_of.py), and enrollments not made yet are left out."""
    labels = dict(Enrollment.Status.choices)
    prefix = reverse("jurisdictions:jurisdiction-detail", kwargs={"slug": "-"})[:-2]
    rows = list(_rows(enrollments)[: MAP_MAX_MARKS * 3])
    if as_of is not None:
        standing = history.statuses(as_of, enrollment_ids=[row[0] for row in rows])
        rows = [(*row[:-1], standing[row[0]].status) for row in rows if row[0] in standing]
    best = {}
    for _, pk, slug, name, state, latitude, longitude, status in rows:
        seen = best.get(pk)
        if seen is None or RANK.get(status, 9) < RANK.get(seen[-1], 9):
            best[pk] = (slug, name, state, latitude, longitude, status)
    marks = [
        Mark(
            url=f"{prefix}{slug}/",
            label=f"{name}, {state}: {labels.get(status, status)}",
            name=name,
            state=state,
            status_label=labels.get(status, status),
            status=status,
            latitude=latitude,
            longitude=longitude,
        )
        for slug, name, state, latitude, longitude, status in best.values()
    ]
    return marks


def enrollments_of(jurisdictions, *, programs=None, statuses=None):
    """The enrollments a filtered list shows (the same scope as its CSV export)."""
    enrollments = Enrollment.objects.filter(jurisdiction__in=jurisdictions.order_by().values("pk"))
    if programs:
        enrollments = enrollments.filter(program__slug__in=programs)
    if statuses:
        enrollments = enrollments.filter(status__in=statuses)
    return enrollments


def map_context(enrollments, *, title, description, table_url, inline_table=True, as_of=None):
    """What templates/includes/us_map.html shows."""
    marks = marks_for(enrollments, as_of=as_of)
    truncated = len(marks) > MAP_MAX_MARKS
    marks = marks[:MAP_MAX_MARKS]
    svg, unplaced = render_map(marks, title=title, description=description)
    return {
        "svg": svg,
        "count": len(marks),
        "unplaced": unplaced,
        "truncated": truncated,
        "max_marks": MAP_MAX_MARKS,
        "table": marks if inline_table and len(marks) <= MAP_TABLE_MAX else None,
        "table_url": table_url,
        "shapes": [
            {"value": value, "label": label, "shape": SHAPES.get(value)}
            for value, label in Enrollment.Status.choices[::-1]
        ],
    }
