"""The server-drawn map of the United States: state outlines (geography/data/us-states.json, made
once by scripts/build_us_map.py) and one mark per jurisdiction, placed by geography.projection.

No JavaScript and no tiles: one inline <svg> with a viewBox (it scales to a phone and prints as
vectors). Each mark is a link to the jurisdiction's page with a <title> (the name on hover, and
what a screen reader or a keyboard user hears on focus), coloured AND shaped by status, so that
the status is readable without colour too.
"""

import functools
import json
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import mark_safe

from .projection import HEIGHT, WIDTH, albers_usa
from .sources import DATA

# Shapes by status (the legend in templates/includes/us_map.html draws the same ones).
SHAPES = {
    "participating": "circle",
    "letter_sent": "triangle",
    "pending": "square",
}
# Half the width of a mark, in map units (975 across): about 5 px on a desktop, 2.5 px on a phone.
SIZE = 6


@dataclass(frozen=True)
class Mark:
    url: str
    label: str
    status: str
    latitude: float
    longitude: float
    name: str = ""
    state: str = ""
    status_label: str = ""


@functools.cache
def state_outlines():
    """The states' <path> elements, built once per process (about 75 kB of path data)."""
    data = json.loads((DATA / "us-states.json").read_text())
    return "".join(
        f'<path class="usmap__state" d="{state["d"]}"><title>{escape(state["name"])}</title></path>'
        for state in data["states"]
    )


def _shape(kind, x, y):
    s = SIZE
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{s:.1f}"/>'
    if kind == "triangle":
        return f'<path d="M{x:.1f} {y - s * 1.15:.1f}l{s * 1.1:.1f} {s * 2:.1f}h{-s * 2.2:.1f}z"/>'
    return f'<rect x="{x - s * 0.9:.1f}" y="{y - s * 0.9:.1f}" width="{s * 1.8:.1f}" height="{s * 1.8:.1f}"/>'


def render_marks(marks):
    """The marks' SVG, and how many could not be placed (outside the three frames: territories)."""
    parts, unplaced = [], 0
    for mark in marks:
        point = albers_usa(mark.longitude, mark.latitude)
        if point is None:
            unplaced += 1
            continue
        parts.append(
            f'<a href="{escape(mark.url)}" class="usmap__mark usmap__mark--{mark.status}">'
            f"<title>{escape(mark.label)}</title>{_shape(SHAPES.get(mark.status, 'square'), *point)}</a>"
        )
    return "".join(parts), unplaced


def render_map(marks, *, title, description, ident="usmap"):
    """The whole <svg>: accessible name (title) and description by id, outlines, then marks."""
    body, unplaced = render_marks(marks)
    svg = (
        f'<svg class="usmap__svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(description)}</desc>'
        f'<g class="usmap__states" aria-hidden="true">{state_outlines()}</g>'
        f'<g class="usmap__marks">{body}</g></svg>'
    )
    return mark_safe(svg), unplaced
