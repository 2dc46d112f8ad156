"""Values computed once per data version: the count of a filtered list, the filter form's HTML.

Kept in the shared cache (Redis when REDIS_URL is set) under the data version of
jurisdictions/cache.py, which every committed write moves on: a stored value is exact for as long
as it can be read. Inside a transaction that wrote and has not committed, nothing is read or stored
(its own writes must show, and must not leak to other readers if it rolls back).
"""

import hashlib

from django.core.cache import cache
from django.utils.translation import get_language

from .cache import data_version, has_uncommitted_writes

PREFIX = "psp:versioned"
TIMEOUT = 60 * 60  # entries under an old version are never read again; they only wait to expire


def versioned_key(kind, key):
    """The cache key of (`kind`, `key`) under the current data version; None when not to cache."""
    if has_uncommitted_writes():
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    # Per language (issue 19): several values are rendered HTML (the filter form, the map) whose
    # words are translated; a Spanish page must never get the English fragment, nor the reverse.
    return f"{PREFIX}:{kind}:{get_language() or '-'}:{data_version().token}:{digest}"


def once_per_version(kind, key, compute):
    """`compute()`, or what it returned for the same `kind` and `key` under this data version."""
    cache_key = versioned_key(kind, key)
    if cache_key is None:
        return compute()
    stored = cache.get(cache_key)
    if stored is None:
        stored = (compute(),)  # in a tuple, so that a computed None is kept too
        cache.set(cache_key, stored, TIMEOUT)
    return stored[0]
