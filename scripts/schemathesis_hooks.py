"""Schemathesis hooks for scripts/schemathesis.sh (SCHEMATHESIS_HOOKS=schemathesis_hooks).

`cursor` cannot be combined with `page` or `ordering` (the parameters' descriptions say so, and the
API answers 400 naming the parameter; tests/test_read_side.py covers it). OpenAPI has no way to
state a rule between two query parameters, so the generator is told here instead of the schema:
a case that carries `cursor` is sent without `page` and `ordering`. (A `before_call` hook, since
the coverage phase does not pass its cases through the filter hooks.)
"""

import schemathesis


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if case.query and "cursor" in case.query:
        case.query = {name: value for name, value in case.query.items() if name not in ("page", "ordering")}
