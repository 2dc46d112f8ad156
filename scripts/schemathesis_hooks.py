"""Schemathesis hooks for scripts/schemathesis.sh (SCHEMATHESIS_HOOKS=schemathesis_hooks).

`cursor` cannot be combined with `page` or `ordering` (the parameters' descriptions say so, and the
API answers 400 naming the parameter; tests/test_read_side.py covers it). OpenAPI has no way to
state a rule between two query parameters, so the generator is told here instead of the schema.
"""

import schemathesis


@schemathesis.hook
def filter_query(ctx, query):
    if not query or "cursor" not in query:
        return True
    return not (query.get("page") not in (None, "") or query.get("ordering") not in (None, "", []))
