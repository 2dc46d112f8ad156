"""Template helpers of the public pages."""

from django import template
from django.http import QueryDict

register = template.Library()


@register.simple_tag
def query_replace(query, **changes):
    """`?<query>` with some parameters replaced (a value of None removes the parameter).

    Links to other pages and sort orders keep every filter the visitor chose.
    """
    data = QueryDict(query, mutable=True)
    for name, value in changes.items():
        if value is None or value == "":
            data.pop(name, None)
        else:
            data[name] = str(value)
    encoded = data.urlencode()
    return f"?{encoded}" if encoded else "?"
