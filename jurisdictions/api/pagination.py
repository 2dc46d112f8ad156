"""API pagination: `page` and `page_size`, with a 400 naming the parameter for a bad value.

Kept out of api.py because settings name it in DEFAULT_PAGINATION_CLASS, which DRF imports while
`rest_framework.generics` itself is being imported.
"""

from django.core.paginator import InvalidPage
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination

from ..db.paging import CountingPaginator

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def _whole_number(request, name, default):
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    # ASCII digits only (str.isdigit and int() also take other scripts' digits).
    if not raw.isascii() or not raw.isdigit() or int(raw[:19]) < 1:
        raise ValidationError({name: [f"“{raw}” is not a whole number of at least 1."]})
    # Past 18 digits the number only needs to be larger than any page (or capped as a size).
    return int(raw) if len(raw) <= 18 else 10**18


class ApiPagination(PageNumberPagination):
    django_paginator_class = CountingPaginator  # count in the page query; deep pages read the index
    page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    page_query_description = "Page number, from 1 (the default)."
    page_size_query_description = (
        f"Results per page, {DEFAULT_PAGE_SIZE} by default; larger values than {MAX_PAGE_SIZE} "
        f"are capped at {MAX_PAGE_SIZE}."
    )
    last_page_strings = ()

    def get_page_size(self, request):
        return min(_whole_number(request, self.page_size_query_param, self.page_size), self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page_size = self.get_page_size(request)
        number = _whole_number(request, self.page_query_param, 1)
        paginator = self.django_paginator_class(queryset, page_size)
        try:
            self.page = paginator.page(number)
        except InvalidPage:
            raise NotFound(
                f"Page {number} does not exist: there are {paginator.num_pages} page(s) of "
                f"{page_size} result(s)."
            ) from None
        self.display_page_controls = paginator.num_pages > 1
        return list(self.page)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {"type": "integer", "minimum": 1}
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
                    "description": "URL of the next page; null on the last page.",
                },
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "URL of the previous page; null on the first page.",
                },
                "results": {**schema, "description": "The results on this page."},
            },
        }
