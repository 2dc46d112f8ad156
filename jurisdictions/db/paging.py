"""A Paginator for deep pages of large lists (used by the public list and the API).

`OFFSET 81000 LIMIT 50` over full rows makes PostgreSQL fetch 81,000 rows from the table only to
skip them (about 200 ms at 90,000 jurisdictions). Selecting the page's ids first lets it walk the
(name, state, id) index alone, then read the 50 rows it needs ("deferred join"):

    WHERE id IN (SELECT id ... ORDER BY name, state LIMIT 50 OFFSET 81000) ORDER BY name, state

Same query count, same rows, same order. Querysets with DISTINCT or annotations (an ordering by
status aggregates) keep plain slicing: their id subquery would select more than the id.

`CountingPaginator` (the API's) also reads the count in the page's query instead of a query of its own.
"""

from django.core.paginator import Paginator
from django.db.models import IntegerField, QuerySet, Subquery


def _defers(object_list):
    return (
        isinstance(object_list, QuerySet)
        and object_list.ordered
        and not object_list.query.distinct
        and not object_list.query.annotations
    )


class DeferredJoinPaginator(Paginator):
    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if bottom and _defers(self.object_list):
            keys = self.object_list.values("pk")[bottom:top]
            return self._get_page(self.object_list.filter(pk__in=keys), number, self)
        return self._get_page(self.object_list[bottom:top], number, self)


class CountOf(Subquery):
    """`(SELECT COUNT(*) FROM (<queryset>) AS counted)`: how many rows `queryset` has, as a value."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS counted)"
    output_field = IntegerField()

    def __init__(self, queryset):
        super().__init__(queryset.order_by().values("pk"))


# Databases take OFFSET and LIMIT as 64-bit integers; a page past that cannot exist (Paginator says so).
MAX_OFFSET = 2**63 - 1


class CountingPaginator(DeferredJoinPaginator):
    """A DeferredJoinPaginator that reads the count in the page's own query.

    A list page needs the number of matching rows (the `count` of the API, the last page) and the
    page's rows: two queries for Django's Paginator. Here the count is a scalar subquery of the page
    query, which PostgreSQL and SQLite run once for the whole statement: one query, one round trip,
    one statement for Django to build. The count needs a query of its own only when the page comes
    back empty past page 1 (to say how many pages there are) or the queryset cannot take the
    subquery (DISTINCT or annotations, as for deep pages; or orphans, which need the count first).
    """

    COUNT = "paginator_count"

    def page(self, number):
        if (
            "count" in self.__dict__
            or self.orphans
            or not isinstance(number, int)
            or number < 1
            or number * self.per_page > MAX_OFFSET
            or not _defers(self.object_list)
        ):
            return super().page(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        counted = self.object_list.annotate(**{self.COUNT: CountOf(self.object_list)})
        if bottom:
            rows = list(counted.filter(pk__in=self.object_list.values("pk")[bottom:top]))
        else:
            rows = list(counted[:top])
        if rows:
            self.count = getattr(rows[0], self.COUNT)  # the cached_property, set
        elif number == 1:
            self.count = 0  # nothing on the first page: nothing at all
        number = self.validate_number(number)  # past the last page: EmptyPage, as Paginator says
        return self._get_page(rows, number, self)
