"""Footer facts shown on every public page: where the data comes from and when it last changed.

Both values are lazy, so a page that does not show the footer (the admin, the API) pays nothing; a
page that does pays two small queries (the status-change one reads the newest row of an index)
the first time after a write, and none after that.
"""

from django.db.models import Max, Subquery
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from .models import Source, StatusChange
from .versioned import once_per_version

FOOTER_SOURCES = 3


def _sources():
    return list(Source.objects.only("title", "publisher", "url", "published_on")[: FOOTER_SOURCES + 1])


def _last_change():
    return StatusChange.objects.aggregate(latest=Max("changed_at"))["latest"]


def _facts_as_of():
    """The latest date a recorded fact took effect: a change's effective date, or the day it was
    recorded when its document gives none (corrections are not events)."""
    # One query of two newest-first lookups, each read from an end of statuschange_effective_idx:
    # one aggregate of both scanned every change (11-27 ms at 123,000 changes).
    events = StatusChange.objects.events()
    day = events.filter(effective_on__isnull=False).order_by("-effective_on").values("effective_on")[:1]
    at = events.filter(effective_on__isnull=True).order_by("-changed_at").values("changed_at")[:1]
    found = list(StatusChange.objects.order_by().values_list(Subquery(day), Subquery(at))[:1])
    effective, undated = found[0] if found else (None, None)
    days = [d for d in (effective, undated and timezone.localdate(undated)) if d]
    return max(days) if days else None


def site_footer(request):
    # Read once per data version (versioned.py): the same two facts on every page until a write.
    return {
        "footer_sources": SimpleLazyObject(lambda: once_per_version("footer-sources", "", _sources)),
        "footer_last_change": SimpleLazyObject(
            lambda: once_per_version("footer-last-change", "", _last_change)
        ),
        "footer_facts_as_of": SimpleLazyObject(
            lambda: once_per_version("footer-facts-as-of", "", _facts_as_of)
        ),
    }
