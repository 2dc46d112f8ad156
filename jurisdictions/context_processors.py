"""Footer facts shown on every public page: where the data comes from and when it last changed.

Both values are lazy, so a page that does not show the footer (the admin, the API) pays nothing; a
page that does pays two small queries (the status-change one reads the newest row of an index)
the first time after a write, and none after that.
"""

from django.db.models import Max, Q
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
    found = StatusChange.objects.events().aggregate(
        day=Max("effective_on"), at=Max("changed_at", filter=Q(effective_on__isnull=True))
    )
    effective, undated = found["day"], found["at"]
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
