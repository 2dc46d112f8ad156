"""GeoJSON export (RFC 7946) of a list of jurisdictions: a FeatureCollection with one Feature per
row of the CSV export (one per jurisdiction and program), whose properties are the CSV's columns
(`format.csv_columns`) and whose geometry is the jurisdiction's point, or null when its location
is not known (RFC 7946 section 3.2 allows a Feature without geometry).

Values are the stored ones: the CSV's guard against spreadsheet formulas is undone (`restore`),
and a blank cell is null. Streamed: the rows come from `csvio.iter_export_rows` a chunk at a time
and each chunk's points are read with one query, so memory stays flat for a national list.
"""

import itertools

import orjson

from ..db.lookups import where_in
from ..models import Jurisdiction
from .csvio import iter_export_rows
from .format import restore

CONTENT_TYPE = "application/geo+json"
CHUNK = 2000
# Six decimals of a degree: about 0.1 m, more than any source gives (RFC 7946 section 11.2).
PRECISION = 6


def _feature(header, cells, point):
    properties = {
        name: (restore(value) if value else None) for name, value in zip(header, cells, strict=True)
    }
    geometry = None
    if point is not None:
        latitude, longitude = point
        # RFC 7946: longitude first, then latitude, in WGS 84.
        geometry = {"type": "Point", "coordinates": [round(longitude, PRECISION), round(latitude, PRECISION)]}
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def iter_geojson(jurisdictions, *, programs=None, statuses=None, as_of=None):
    """The FeatureCollection's text, in pieces: the opening at once, then chunks of features
    (with `as_of`, the record as it stood at the end of that day, as in the CSV)."""
    rows = iter_export_rows(
        jurisdictions, programs=programs, statuses=statuses, chunk_size=CHUNK, as_of=as_of
    )
    header = next(rows)
    yield '{"type":"FeatureCollection","features":['
    first = True
    while True:
        chunk = list(itertools.islice(rows, CHUNK))
        if not chunk:
            break
        slugs = list({cells[0] for cells in chunk})
        points = {
            slug: (latitude, longitude)
            for slug, latitude, longitude in where_in(
                Jurisdiction.objects.filter(latitude__isnull=False), "slug", [restore(s) for s in slugs]
            ).values_list("slug", "latitude", "longitude")
        }
        text = b",".join(
            orjson.dumps(_feature(header, cells, points.get(restore(cells[0])))) for cells in chunk
        ).decode()
        yield text if first else "," + text
        first = False
    yield "]}\n"
