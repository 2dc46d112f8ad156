"""Footer facts shown on every public page: where the data comes from and when it last changed.

Both values are lazy, so a page that does not show the footer (the admin, the API) pays nothing; a
page that does pays two small queries (the status-change one reads the newest row of an index).
"""

from django.db.models import Max
from django.utils.functional import SimpleLazyObject

from .models import Source, StatusChange

FOOTER_SOURCES = 3


def _sources():
    return list(Source.objects.only("title", "publisher", "url", "published_on")[: FOOTER_SOURCES + 1])


def _last_change():
    return StatusChange.objects.aggregate(latest=Max("changed_at"))["latest"]


def site_footer(request):
    return {
        "footer_sources": SimpleLazyObject(_sources),
        "footer_last_change": SimpleLazyObject(_last_change),
    }
