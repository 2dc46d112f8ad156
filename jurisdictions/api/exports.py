"""The list's exports (CSV and GeoJSON): the renderers that select them, and the GeoJSON shape
for the schema. JurisdictionViewSet (views.py) streams them itself.
"""

from rest_framework import renderers

from ..transfer import geojson


class CSVRenderer(renderers.BaseRenderer):
    """Selects the CSV export (`?format=csv` or `Accept: text/csv`); the list streams it itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # Only reached for a non-streamed response, which finalize_response sends as JSON instead.
        return renderers.JSONRenderer().render(data, "application/json", renderer_context)


class GeoJSONRenderer(CSVRenderer):
    """Selects the GeoJSON export (`?format=geojson` or `Accept: application/geo+json`)."""

    media_type = geojson.CONTENT_TYPE
    format = "geojson"


# Formats the list streams itself; their errors are sent as JSON.
EXPORT_FORMATS = {CSVRenderer.format, GeoJSONRenderer.format}


# The shape of the GeoJSON export, for the schema (RFC 7946: a FeatureCollection of Points).
GEOJSON_SCHEMA = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "geometry", "properties"],
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "geometry": {
                        "type": "object",
                        "nullable": True,
                        "required": ["type", "coordinates"],
                        "properties": {
                            "type": {"type": "string", "enum": ["Point"]},
                            "coordinates": {
                                "type": "array",
                                "items": {"type": "number"},
                                "minItems": 2,
                                "maxItems": 2,
                                "description": "Longitude, latitude (WGS 84).",
                            },
                        },
                    },
                    "properties": {
                        "type": "object",
                        "description": "The CSV export's columns (slug, name, state, kind, geoid, "
                        "ocd_id, program, status, ..., one group per requirement code); blank is null.",
                        "additionalProperties": {"type": "string", "nullable": True},
                    },
                },
            },
        },
    },
}
