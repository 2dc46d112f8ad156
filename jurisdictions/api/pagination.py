"""API pagination: page numbers for people, cursors for partners walking the whole list.

`page` and `page_size` as before (a 400 naming the parameter for a bad value, a 404 saying how
many pages there are past the end); `cursor` (empty to start) walks the list in id order by keyset,
with `next` carrying the following cursor. Both read the same `ListPaginator` (db/paging.py), whose
count is computed once per filter and data version.

Kept out of views.py because settings name it in DEFAULT_PAGINATION_CLASS, which DRF imports while
`rest_framework.generics` itself is being imported.
"""

from django.core.paginator import InvalidPage
from django.utils.translation import ngettext
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from ..db.paging import InvalidCursor, ListPaginator
from ..filtersets import count_key

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
CURSOR = "cursor"


class NotFoundNaming(NotFound):
    """A 404 whose problem names the parameter that points nowhere (api/errors.py reads it)."""

    def __init__(self, parameter, detail):
        super().__init__(detail)
        self.parameter = parameter


def one_value(request, name):
    """The parameter's value, None when absent; a 400 naming it when given more than once (the
    schema types it as one value, which QueryDict.get would silently take the last of)."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise ValidationError({name: [f"“{name}” was given more than once; it takes one value."]})
    return values[0] if values else None


def whole_number(request, name, default):
    raw = one_value(request, name)
    if raw is None:
        return default
    # An empty value is refused like any other that is not a number (the schema types it).
    # ASCII digits only (str.isdigit and int() also take other scripts' digits).
    if not raw.isascii() or not raw.isdigit() or int(raw[:19]) < 1:
        raise ValidationError({name: [f"“{raw}” is not a whole number of at least 1."]})
    # Past 18 digits the number only needs to be larger than any page (or capped as a size).
    return int(raw) if len(raw) <= 18 else 10**18


class ApiPagination(PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    page_query_description = "Page number, from 1 (the default). Not with `cursor`."
    page_size_query_description = (
        f"Results per page, {DEFAULT_PAGE_SIZE} by default; larger values than {MAX_PAGE_SIZE} "
        f"are capped at {MAX_PAGE_SIZE}."
    )
    cursor_query_description = (
        "Walk the whole list: send `cursor=` (empty) for the first page, then follow `next`, which "
        "carries the next cursor (opaque). Results then come in id order, which new records never "
        "disturb (they come last), and every page costs the same however deep; `previous` is null. "
        "Not with `page` or `ordering`."
    )
    last_page_strings = ()

    def get_page_size(self, request):
        return min(whole_number(request, self.page_size_query_param, self.page_size), self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.cursor_page = None
        page_size = self.get_page_size(request)
        filterset_class = getattr(view, "filterset_class", None)
        key = count_key(filterset_class, request.query_params) if filterset_class else None
        # A view may read its pages itself (JurisdictionViewSet: each jurisdiction with its rows).
        paginator = ListPaginator(queryset, page_size, count_key=key, read=getattr(view, "page_reader", None))
        cursor = one_value(request, CURSOR)
        if cursor is not None:
            return self._walk(paginator, cursor, request)
        number = whole_number(request, self.page_query_param, 1)
        try:
            self.page = paginator.page(number)
        except InvalidPage:
            raise NotFound(
                ngettext(
                    "Page %(number)s does not exist: there is %(count)d page (%(size)d results a page).",
                    "Page %(number)s does not exist: there are %(count)d pages (%(size)d results a page).",
                    paginator.num_pages,
                )
                % {"number": number, "count": paginator.num_pages, "size": page_size}
            ) from None
        self.display_page_controls = paginator.num_pages > 1
        return list(self.page)

    def _walk(self, paginator, cursor, request):
        for other in (self.page_query_param, "ordering"):
            if request.query_params.get(other, ""):
                raise ValidationError(
                    {other: [f"“{other}” cannot be used with “cursor”: a cursor walks the list in id order."]}
                )
        try:
            self.cursor_page = paginator.walk(cursor)
        except InvalidCursor:
            # A cursor names a page, as `page` does: one that does not exist is a 404 (any string
            # is a well-formed cursor, so the schema cannot call it invalid).
            raise NotFoundNaming(
                CURSOR, "This cursor is not one the API gave; start again with cursor= (empty)."
            ) from None
        self.count = paginator.count
        return self.cursor_page.rows

    def get_paginated_response(self, data):
        if self.cursor_page is None:
            return super().get_paginated_response(data)
        following = self.cursor_page.next_cursor
        next_url = None
        if following is not None:
            next_url = replace_query_param(self.request.build_absolute_uri(), CURSOR, following)
        return Response({"count": self.count, "next": next_url, "previous": None, "results": data})

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {"type": "integer", "minimum": 1}
        parameters.append(
            {
                "name": CURSOR,
                "required": False,
                "in": "query",
                "description": self.cursor_query_description,
                "schema": {"type": "string"},
            }
        )
        return parameters

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "description": "Number of results on all pages."},
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": (
                        "URL of the next page (with `cursor`: of the next cursor page); null on the last page."
                    ),
                },
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "URL of the previous page; null on the first page, and always with `cursor`.",
                },
                "results": {**schema, "description": "The results on this page."},
            },
        }
