"""HTTP caching of API reads: ETag, Last-Modified, Cache-Control and 304 (one place decides them)."""

import datetime

from django.utils.cache import get_conditional_response
from django.utils.http import http_date

from ..cache import data_version, has_uncommitted_writes
from ..db.changed import data_changed_at
from ..etags import etag_for, set_etag


def changed_at():
    """The data version's time, without a query (jurisdictions/cache.py); inside a transaction
    that has written and not committed, the database's own answer."""
    if has_uncommitted_writes():
        return data_changed_at()
    return datetime.datetime.fromtimestamp(data_version().modified, tz=datetime.timezone.utc)


class ConditionalGetMixin:
    """ETag and Last-Modified on successful reads, and 304 for a matching conditional request.

    The ETag is `etags.etag_for` the rendered body, so it changes exactly when the response does;
    Last-Modified is the data's time. A streamed response (CSV) cannot be hashed first: its ETag
    stands for the data time and the URL instead.
    """

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.get("X-Cache") == "hit":
            # From the response cache: ETag, Last-Modified and any 304 are already settled.
            if response.status_code == 200 and not response.has_header("Cache-Control"):
                response["Cache-Control"] = "no-cache"
            return response
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        when = changed_at()
        if when is not None:
            response["Last-Modified"] = http_date(when.timestamp())
        if response.streaming:
            response["ETag"] = etag_for(
                f"{when.isoformat() if when else ''} {request.get_full_path()}", weak=True
            )
        else:
            response.render()
            if not response.has_header("ETag"):  # the response cache may have set it already
                set_etag(response)
        if not response.has_header("Cache-Control"):
            # Caches may keep a copy but must ask again (a 304 is cheap) before using it.
            response["Cache-Control"] = "no-cache"
        return get_conditional_response(
            request,
            etag=response["ETag"],
            last_modified=int(when.timestamp()) if when else None,
            response=response,
        )
