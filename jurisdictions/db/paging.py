"""The one paginator of long lists, used by the public HTML list and every API list.

`ListPaginator` is Django's Paginator with three speed-ups, each measured (docs/performance.md):

* **The count once per filter and data version.** Counting 76,000 matching rows over the enrollment
  semi-join costs about 20 ms at 90,000 jurisdictions, paid by every uncached page of the same
  filter. Given a `count_key` (the filter, without ordering or page: `filtersets.count_key`), the
  count is kept under the data version (versioned.py), which every committed write moves on:
  exact, never an estimate.
* **The count in the page query** when it is not known yet: a scalar subquery of the page query,
  `(SELECT COUNT(*) FROM (<matching ids>) AS counted)`, which the database runs once: one query,
  one round trip. Querysets with DISTINCT or annotations (an ordering by status aggregates) and
  orphans keep Django's separate count.
* **Deep pages by id first** ("deferred join"): `OFFSET 81000 LIMIT 50` over full rows makes
  PostgreSQL read 81,000 rows only to skip them (about 200 ms); selecting the page's ids first lets
  it walk the (name, state, id) index alone, then read the 50 rows it needs:
  `WHERE id IN (SELECT id ... ORDER BY name, state LIMIT 50 OFFSET 81000) ORDER BY name, state`.

`ListPaginator.walk(cursor)` is the same list read by keyset for partners walking all of it: rows
ordered by id (unique, and a new row's id is larger than every earlier one, so inserts never move a
row a walk has yet to see), `WHERE id > <last id seen> ORDER BY id LIMIT n`: the same cost at the
first page and the 1,800th. The cursor is opaque text (`encode_cursor`/`decode_cursor`).
"""

import base64
import binascii
from typing import NamedTuple

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import IntegerField, QuerySet, Subquery
from django.utils.functional import cached_property

from ..versioned import TIMEOUT, versioned_key

# Databases take OFFSET and LIMIT as 64-bit integers; a page past that cannot exist (Paginator says so).
MAX_OFFSET = 2**63 - 1
CURSOR_PREFIX = b"id:"


def _defers(object_list):
    return (
        isinstance(object_list, QuerySet)
        and object_list.ordered
        and not object_list.query.distinct
        and not object_list.query.annotations
    )


def _instances(queryset, count=None):
    rows = list(queryset)
    return rows, getattr(rows[0], count) if count and rows else None


class CountOf(Subquery):
    """`(SELECT COUNT(*) FROM (<queryset>) AS counted)`: how many rows `queryset` has, as a value."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS counted)"
    output_field = IntegerField()

    def __init__(self, queryset):
        super().__init__(queryset.order_by().values("pk"))


class CursorPage(NamedTuple):
    rows: list
    next_cursor: str | None  # None on the last page


class InvalidCursor(ValueError):
    pass


def encode_cursor(last_id):
    return base64.urlsafe_b64encode(CURSOR_PREFIX + str(last_id).encode()).decode().rstrip("=")


def decode_cursor(text):
    """The id a cursor stands after; "" starts at the beginning (0). InvalidCursor otherwise."""
    if text == "":
        return 0
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidCursor(text) from None
    digits = raw[len(CURSOR_PREFIX) :]
    if not raw.startswith(CURSOR_PREFIX) or not digits.isdigit() or len(digits) > 18:
        raise InvalidCursor(text)
    return int(digits)


class ListPaginator(Paginator):
    """Page numbers (with the count) and keyset walks over one filtered list; see the module."""

    COUNT = "paginator_count"

    def __init__(
        self, object_list, per_page, orphans=0, allow_empty_first_page=True, *, count_key=None, read=None
    ):
        super().__init__(object_list, per_page, orphans, allow_empty_first_page)
        self._cache_key = versioned_key("count", count_key) if count_key is not None else None
        # How a page's queryset becomes its items: `read(queryset, count=<annotation or None>)`
        # gives (items, the annotation's value) (rows.listed reads a page with what it shows);
        # by default, the model instances.
        self.read = read or _instances

    def _read(self, queryset, count=None):
        return self.read(queryset, count=count)[0]

    @cached_property
    def count(self):
        if self._cache_key is not None:
            stored = cache.get(self._cache_key)
            if stored is not None:
                return stored
        return self._store_count(super().count)

    def _store_count(self, value):
        if self._cache_key is not None:
            cache.set(self._cache_key, value, TIMEOUT)
        return value

    def _known_count(self):
        if "count" in self.__dict__:
            return True
        if self._cache_key is not None:
            stored = cache.get(self._cache_key)
            if stored is not None:
                self.count = stored  # the cached_property, set
                return True
        return False

    def _slice(self, bottom, top):
        if bottom and _defers(self.object_list):
            return self.object_list.filter(pk__in=self.object_list.values("pk")[bottom:top])
        return self.object_list[bottom:top]

    def page(self, number):
        if (
            self._known_count()
            or self.orphans
            or not isinstance(number, int)
            or number < 1
            or number * self.per_page > MAX_OFFSET
            or not _defers(self.object_list)
        ):
            number = self.validate_number(number)
            bottom = (number - 1) * self.per_page
            top = bottom + self.per_page
            if top + self.orphans >= self.count:
                top = self.count
            return self._get_page(self._read(self._slice(bottom, top)) if top > bottom else [], number, self)
        # Count unknown: read it with the page, in the same query.
        bottom = (number - 1) * self.per_page
        counted = self.object_list.annotate(**{self.COUNT: CountOf(self.object_list)})
        rows, total = self.read(
            counted.filter(pk__in=self.object_list.values("pk")[bottom : bottom + self.per_page])
            if bottom
            else counted[: self.per_page],
            count=self.COUNT,
        )
        if rows:
            self.count = self._store_count(total)
        elif number == 1:
            self.count = self._store_count(0)  # nothing on the first page: nothing at all
        number = self.validate_number(number)  # past the last page: EmptyPage, as Paginator says
        return self._get_page(rows, number, self)

    def walk(self, cursor):
        """The page after `cursor` (an `encode_cursor` text, "" for the start) in id order."""
        after = decode_cursor(cursor)
        rows = self._read(self.object_list.order_by("pk").filter(pk__gt=after)[: self.per_page + 1])
        more = len(rows) > self.per_page
        rows = rows[: self.per_page]
        return CursorPage(rows, encode_cursor(rows[-1].pk) if more else None)
