"""Reference geography for tests: the real loader over the real packages (no fixtures)."""

import re

from django.core.management import call_command
from shapely.geometry import Polygon

from geography.sources import DATA


def load_geography():
    call_command("load_geography", verbosity=0)


def state_outline(fips):
    """A state's outline from the committed path data, as shapely polygons in map units."""
    import json

    states = json.loads((DATA / "us-states.json").read_text())["states"]
    d = next(s["d"] for s in states if s["fips"] == fips)
    polygons = []
    for ring in re.findall(r"M([^M]+?)z", d):
        start, _, steps = ring.partition("l")
        x, y = map(float, start.split())
        points = [(x, y)]
        numbers = list(map(float, steps.split()))
        for dx, dy in zip(numbers[::2], numbers[1::2], strict=True):
            x, y = x + dx, y + dy
            points.append((x, y))
        if len(points) >= 3:
            polygons.append(Polygon(points).buffer(0))
    return polygons
