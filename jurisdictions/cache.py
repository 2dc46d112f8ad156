"""The data version, and the shared cache of public responses that it keys.

**Data version.** One token in the shared cache (Redis when REDIS_URL is set, local memory otherwise)
that changes whenever any tracked record changes. Every write statement that reaches a table of this
app (INSERT, UPDATE, DELETE, TRUNCATE on `jurisdictions_*`) is seen by a database execute wrapper
installed on every connection, so every door is covered without each one remembering to call
something: the admin, the API, services, the importer's bulk writes, `QuerySet.update()`, and
StatusChange rows (which have no simple-history model). Inside a transaction the bump waits for
the commit (`on_commit`), so a reader never caches data that is then rolled back, and a reader that
started before the commit keys what it read under the old token, which nobody asks for again.
simple-history's post_create_historical_record signal was not enough: its bulk helpers
(bulk_create_with_history, used by the importer) do not send it, nor does QuerySet.update().

**Response cache.** Public list and detail responses are stored under the data version, the path
with its query string and the representation (JSON, HTML...). A repeated read returns the stored
bytes without touching the database, and a write makes the next read miss because the key moved on.
The ETag (a hash of the body, computed once per version) is stored with the body and
Last-Modified is the version's time, so a client revalidating gets a 304 for free. A body-hash
ETag rather than the version token itself: a write elsewhere must not make a staff client's
If-Match fail on a record that did not change.
A request running inside a transaction that already wrote (a test, or a view that writes first)
bypasses the cache entirely, so it always sees its own writes.

Local memory is per process: with several worker processes set REDIS_URL so that they share the
version (otherwise a worker could serve what it cached before another worker's write).
"""

import functools
import hashlib
import time
import uuid
from typing import NamedTuple

from django.core.cache import cache
from django.db import connections
from django.db.backends.signals import connection_created
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, set_response_etag
from django.utils.http import http_date

VERSION_KEY = "psp:data-version"
RESPONSE_PREFIX = "psp:response"
# Entries under an old version are never read again; they only wait to expire.
RESPONSE_TIMEOUT = 60 * 60
TABLE_PREFIX = "jurisdictions_"
WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")
# Headers of a stored response worth replaying (the middleware adds the security headers again).
REPLAYED_HEADERS = ("Content-Type", "ETag", "Vary", "Allow", "Content-Language", "Link", "Cache-Control")


class DataVersion(NamedTuple):
    token: str
    modified: int  # seconds since the epoch, for Last-Modified


def data_version():
    """The current version; created (with a new token) when the cache has none."""
    value = cache.get(VERSION_KEY)
    if value is None:
        value = (uuid.uuid4().hex, int(time.time()))
        if not cache.add(VERSION_KEY, value, timeout=None):
            value = cache.get(VERSION_KEY) or value
    return DataVersion(*value)


def bump_data_version():
    """Give the data a new version: every cached response and ETag is stale from now on."""
    previous = cache.get(VERSION_KEY)
    # Last-Modified has one-second resolution: two versions never share a second, so that
    # If-Modified-Since cannot mistake a newer version for the one a client holds.
    modified = int(time.time())
    if previous is not None and modified <= previous[1]:
        modified = previous[1] + 1
    value = (uuid.uuid4().hex, modified)
    cache.set(VERSION_KEY, value, timeout=None)
    return DataVersion(*value)


# -- seeing writes -------------------------------------------------------------------------------


def _is_tracked_write(sql):
    if isinstance(sql, bytes):  # psycopg2.extras.execute_values sends bytes
        sql = sql[:256].decode("utf-8", "replace")
    elif not isinstance(sql, str):
        return False
    head = sql.lstrip()[:200]
    return head[:8].upper().startswith(WRITE_VERBS) and TABLE_PREFIX in head


def _after_commit(connection):
    connection.psp_pending_bump = None
    bump_data_version()


def note_write(connection):
    """Record a write to a tracked table: the version moves on now (autocommit) or at commit.

    The execute wrapper calls it for every statement; code that writes without `execute` (COPY
    through `cursor.copy_expert`) calls it itself. One callback per transaction: a 90,000-row
    import registers one, not one per statement.
    """
    if not connection.in_atomic_block:
        bump_data_version()  # autocommit: the write is already committed
        return
    if not _pending(connection):
        connection.psp_pending_bump = functools.partial(_after_commit, connection)
        connection.on_commit(connection.psp_pending_bump)


def _pending(connection):
    """The bump waiting for this transaction's commit (gone when a rollback dropped it)."""
    callback = getattr(connection, "psp_pending_bump", None)
    return callback is not None and any(func is callback for _, func, _ in connection.run_on_commit)


def _watch_writes(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if _is_tracked_write(sql):
        note_write(context["connection"])
    return result


def install_write_watch(connection, **kwargs):
    """Install the execute wrapper on a connection (idempotent; called on every new connection)."""
    if _watch_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch_writes)


def connect_write_watch():
    connection_created.connect(install_write_watch, dispatch_uid="psp_data_version_watch")
    for connection in connections.all(initialized_only=True):
        install_write_watch(connection)


def has_uncommitted_writes(using="default"):
    """True inside a transaction that wrote to a tracked table and has not committed yet."""
    connection = connections[using]
    return connection.in_atomic_block and _pending(connection)


# -- cached responses ----------------------------------------------------------------------------


def response_key(request, version, variant=""):
    raw = f"{request.method if request.method != 'HEAD' else 'GET'}|{request.get_full_path()}|{variant}"
    return f"{RESPONSE_PREFIX}:{version.token}:{hashlib.sha256(raw.encode()).hexdigest()[:32]}"


class ResponseCache:
    """One lookup and one store around a view's work, for a public GET.

        cached = ResponseCache(request, variant="json")
        if cached.hit is not None:
            return cached.hit          # the stored bytes, or a 304: no database
        return cached.store(build())   # stored now or, for a lazy response, once rendered

    The ETag is a hash of the body (Django's `set_response_etag`), computed once per data version
    and kept with the body, so it changes exactly when the representation does and a client's
    If-Match/If-None-Match means what it says; Last-Modified is the data version's time.
    """

    def __init__(self, request, *, variant=""):
        self.request = request
        self.active = request.method in ("GET", "HEAD") and not has_uncommitted_writes()
        self.hit = None
        if not self.active:
            return
        self.version = data_version()
        self.key = response_key(request, self.version, variant)
        stored = cache.get(self.key)
        if stored is None:
            return
        status, headers, content = stored
        response = HttpResponse(content, status=status)
        for name, value in headers.items():
            response.headers[name] = value
        response.headers["Last-Modified"] = http_date(self.version.modified)
        response.headers["X-Cache"] = "hit"
        response.psp_cache_hit = True
        self.hit = get_conditional_response(
            request, etag=response.headers.get("ETag"), last_modified=self.version.modified, response=response
        )
        self.hit.psp_cache_hit = True

    def store(self, response):
        if not self.active or response.status_code != 200 or response.streaming:
            return response
        response.headers["Last-Modified"] = http_date(self.version.modified)
        response.headers["X-Cache"] = "miss"
        if callable(getattr(response, "add_post_render_callback", None)) and not getattr(
            response, "is_rendered", True
        ):
            response.add_post_render_callback(self._save)
            return response
        self._save(response)
        return get_conditional_response(
            self.request,
            etag=response.headers.get("ETag"),
            last_modified=self.version.modified,
            response=response,
        )

    def _save(self, response):
        if "ETag" not in response.headers:
            set_response_etag(response)
        # A page that set a cookie (a CSRF token, a message) belongs to one visitor only.
        if response.cookies or self.request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
            return
        headers = {name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers}
        cache.set(self.key, (response.status_code, headers, response.content), RESPONSE_TIMEOUT)


def cache_public_page(view):
    """Cache a function view's GET responses for anonymous visitors under the data version."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return view(request, *args, **kwargs)
        cached = ResponseCache(request, variant="html")
        if cached.hit is not None:
            return cached.hit
        return cached.store(view(request, *args, **kwargs))

    return wrapper


class _CachedDRFRead:
    """Shared by the DRF mixins below: JSON reads served from the response cache.

    Runs inside the action, after DRF's authentication, permissions, throttles and content
    negotiation, so those still apply to cached reads. Only the JSON renderer is cached: its output
    is the same for every reader, while the browsable API shows the user and their forms.
    """

    def _cached(self, handler, request, *args, **kwargs):
        renderer = getattr(request, "accepted_renderer", None)
        if getattr(renderer, "format", None) != "json":
            return handler(request, *args, **kwargs)
        cached = ResponseCache(request, variant=f"json|{getattr(request, 'accepted_media_type', '')}")
        if cached.hit is not None:
            return cached.hit
        return cached.store(handler(request, *args, **kwargs))


class CachedListMixin(_CachedDRFRead):
    def list(self, request, *args, **kwargs):
        return self._cached(super().list, request, *args, **kwargs)


class CachedRetrieveMixin(_CachedDRFRead):
    def retrieve(self, request, *args, **kwargs):
        return self._cached(super().retrieve, request, *args, **kwargs)


class CachedReadMixin(CachedListMixin, CachedRetrieveMixin):
    """For a ViewSet with both list and retrieve (a DRF router routes whatever methods exist, so a
    ViewSet with only one of them takes CachedListMixin or CachedRetrieveMixin)."""
