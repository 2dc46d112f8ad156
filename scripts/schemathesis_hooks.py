"""Schemathesis hooks for scripts/schemathesis.sh (SCHEMATHESIS_HOOKS=schemathesis_hooks).

Rules between or about parameters that OpenAPI cannot state, told to the generator here instead of
the schema (a `before_call` hook, since the coverage phase does not pass its cases through the
filter hooks):

- `cursor` cannot be combined with `page` or `ordering` (the parameters' descriptions say so, and
  the API answers 400 naming the parameter; tests/test_read_side.py covers it): a case that carries
  `cursor` is sent without `page` and `ordering`.
- `as_of` is a day no later than today (a 400 naming `as_of` otherwise; the parameter's description
  says so and tests/test_seed_citations.py covers it). A schema has no "today", so a generated day
  in the future is sent as today.
- Schemathesis 4.32 validates a streamed `format=geojson` body against the operation's first
  documented media type (the paginated JSON list) although the response says `Content-Type:
  application/geo+json`, which has its own schema in the contract; the GeoJSON is checked by
  tests/test_map.py instead (RFC 7946, with shapely), and fuzzed cases ask for JSON.
"""

import datetime

import schemathesis


def _future_day(value):
    try:
        return datetime.date.fromisoformat(str(value)) > datetime.date.today()  # noqa: DTZ011
    except ValueError:
        return False


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if not case.query:
        return
    query = dict(case.query)
    if "cursor" in query:
        query = {name: value for name, value in query.items() if name not in ("page", "ordering")}
    if "as_of" in query and _future_day(query["as_of"]):
        query["as_of"] = datetime.date.today().isoformat()  # noqa: DTZ011
    if query.get("format") == "geojson":
        query.pop("format")
    case.query = query
