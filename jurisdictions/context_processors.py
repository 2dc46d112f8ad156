"""Footer facts shown on every public page: where the data comes from and when it last changed.

The values are lazy, so a page that does not show the footer (the admin, the API) pays nothing; a
page that does pays two small queries (the documents, and the dates read from the ends of indexes)
the first time after a write, and none after that.
"""

from django.db.models import Subquery
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from .db.compiled import CompiledQuery
from .models import Source, StatusChange
from .versioned import once_per_version

FOOTER_SOURCES = 3


SOURCE_FIELDS = ("id", "title", "publisher", "url", "published_on")
# Both compiled once per process (db/compiled.py): building them through the ORM cost four times
# what running them does, on the first page after each write.
SOURCES = CompiledQuery(lambda: Source.objects.values_list(*SOURCE_FIELDS)[: FOOTER_SOURCES + 1])


def _sources():
    return [Source(**dict(zip(SOURCE_FIELDS, row, strict=True))) for row in SOURCES.rows()]


def _dates_query():
    changes = StatusChange.objects.order_by("-changed_at").values("changed_at")[:1]
    events = StatusChange.objects.events()
    day = events.filter(effective_on__isnull=False).order_by("-effective_on").values("effective_on")[:1]
    at = events.filter(effective_on__isnull=True).order_by("-changed_at").values("changed_at")[:1]
    return StatusChange.objects.order_by().values_list(Subquery(changes), Subquery(day), Subquery(at))[:1]


DATES = CompiledQuery(_dates_query)


def _dates():
    """(when a change was last recorded, the latest date a recorded fact took effect), in one query.

    The second is a change's effective date, or the day it was recorded when its document gives
    none (corrections are not events). Three newest-first lookups, each read from an end of an
    index (statuschange_effective_idx, and changed_at's): aggregates over every change scanned all
    of them (11-27 ms at 123,000 changes), and two queries cost a round trip more."""
    found = DATES.rows()
    latest, effective, undated = found[0] if found else (None, None, None)
    days = [d for d in (effective, undated and timezone.localdate(undated)) if d]
    return latest, max(days) if days else None


def site_footer(request):
    # Read once per data version (versioned.py): the same facts on every page until a write.
    dates = SimpleLazyObject(lambda: once_per_version("footer-dates", "", _dates))
    return {
        "footer_sources": SimpleLazyObject(lambda: once_per_version("footer-sources", "", _sources)),
        "footer_last_change": SimpleLazyObject(lambda: dates[0]),
        "footer_facts_as_of": SimpleLazyObject(lambda: dates[1]),
    }
