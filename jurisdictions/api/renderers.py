"""The API's JSON renderer: DRF's output, written by orjson.

For a page of 50 jurisdictions with their enrollments and answers, `json.dumps` with DRF's encoder
is a few milliseconds of a request that the raw reference does in about ten (docs/performance.md);
orjson writes the same bytes several times faster. Anything orjson would write differently is left
to DRF: an indent asked for in the Accept header, non-ASCII escaping or non-compact settings, and
values orjson cannot take (lazy strings, decimals go through DRF's encoder as before).

Dates and datetimes (the jurisdiction list leaves them to the renderer, serializers.py) orjson writes
itself, as DRF's encoder does: ISO 8601, microseconds only when there are some, UTC as Z. The two
differ only on offsets with seconds (local mean time before 1900), which a database storing UTC
never returns. tests/test_performance.py compares both renderers' bytes on API responses.
"""

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_encoder = JSONEncoder()
_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def _default(value):
    # Subclasses of dict/list/str (DRF's ReturnDict, ReturnList, SafeString) are passed through by
    # OPT_PASSTHROUGH_SUBCLASS so that nothing is written differently from json.dumps; turn them
    # into the plain types, and everything else into what DRF's encoder makes of it.
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        return str(value)
    return _encoder.default(value)


class FastJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        indent = self.get_indent(accepted_media_type, renderer_context or {})
        if indent is not None or self.ensure_ascii or not self.compact:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=_default, option=_OPTIONS)
        except TypeError:  # e.g. a key that is not a string
            return super().render(data, accepted_media_type, renderer_context)
        # As DRF does: U+2028 and U+2029 escaped, so the JSON is also valid JavaScript.
        return body.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
