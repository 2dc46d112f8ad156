"""The data version, and the shared cache of public responses that it keys.

**Data version.** One row in the database (`jurisdictions_dataversion`: a random token and the second
it changed), moved on in the same transaction as every write to a tracked table: see
jurisdictions/db/watch.py (the seam, since it intercepts SQL), which sees every door's writes. A
reader therefore sees the new data and the new token together, or neither, whatever Redis did
meanwhile: a write made while Redis was down or paused is never hidden behind a cached page.

Reading the version costs one primary-key lookup (docs/deploy.md has the measured figure); a request
reads it once (the middleware below keeps it for the request's duration).

**Response cache.** Public list and detail responses are stored in the cache (Redis when REDIS_URL
is set, see psp_tracker/cache_backends.py; local memory otherwise) under the data version and
everything that shapes the response: scheme, host (with port), method, path with query string,
Accept, the active language and the representation (JSON, HTML...). A repeated read returns the
stored bytes after that one version query, and a write makes the next read miss because the key
moved on. The ETag (a hash of the body, computed once per version) is stored with the body and
Last-Modified is the version's time, so a client revalidating gets a 304 for free. A body-hash ETag
rather than the version token itself: a write elsewhere must not make a staff client's If-Match fail
on a record that did not change.
A request running inside a transaction that already wrote (a test, or a view that writes first)
bypasses the cache entirely, so it always sees its own writes.

Redis is only an accelerator: when it fails, the backend serves from the database (and a small
per-process memory), and since the version lives in the database, memory in several processes
cannot serve what another process's write replaced.
"""

import contextvars
import functools
import hashlib

from django.core.cache import cache
from django.db import connections
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import get_language

from .db import watch
from .db.watch import Version as DataVersion  # noqa: F401  (the public name)
from .etags import set_etag

RESPONSE_PREFIX = "psp:response"
# Entries under an old version are never read again; they only wait to expire.
RESPONSE_TIMEOUT = 60 * 60
# Headers of a stored response worth replaying (the middleware adds the security headers again).
REPLAYED_HEADERS = ("Content-Type", "ETag", "Vary", "Allow", "Content-Language", "Link", "Cache-Control")

# The version read during the current request (None outside a request, or not read yet).
_request_memo = contextvars.ContextVar("psp_data_version_memo", default=None)


def data_version():
    """The current version, read from the database (once per request)."""
    memo = _request_memo.get()
    if memo is None or has_uncommitted_writes():
        return watch.read_version()
    if "version" not in memo:
        memo["version"] = watch.read_version()
    return memo["version"]


def bump_data_version():
    """Give the data a new version now: every cached response and ETag is stale from now on."""
    version = watch.write_version()
    _forget_memo()
    return version


def _forget_memo():
    memo = _request_memo.get()
    if memo is not None:
        memo.pop("version", None)


watch.on_bump(_forget_memo)


def note_write(connection):
    """Record a write to a tracked table that bypassed `execute` (COPY): see db/watch.py."""
    watch.note_write(connection)


def has_uncommitted_writes(using="default"):
    """True inside a transaction that wrote to a tracked table and has not committed yet."""
    connection = connections[using]
    return connection.in_atomic_block and watch.has_pending_bump(connection)


def connect_write_watch():
    watch.connect_write_watch()


class DataVersionMiddleware:
    """Reads the data version at most once per request (it is one query)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request_memo.set({})
        try:
            return self.get_response(request)
        finally:
            _request_memo.reset(token)


# -- cached responses ----------------------------------------------------------------------------


def response_key(request, version, variant=""):
    """Everything that shapes the response is in the key: a request with another Host, scheme,
    Accept or language can never be answered with bytes built for a different one."""
    method = request.method if request.method != "HEAD" else "GET"
    raw = "|".join(
        (
            request.scheme,
            request.get_host(),
            method,
            request.get_full_path(),
            request.headers.get("Accept", ""),
            get_language() or "",
            variant,
        )
    )
    return f"{RESPONSE_PREFIX}:{version.token}:{hashlib.sha256(raw.encode()).hexdigest()[:32]}"


class ResponseCache:
    """One lookup and one store around a view's work, for a public GET.

        cached = ResponseCache(request, variant="json")
        if cached.hit is not None:
            return cached.hit          # the stored bytes, or a 304: no database
        return cached.store(build())   # stored now or, for a lazy response, once rendered

    The ETag is a hash of the body (`etags.etag_for`, the site's one ETag computation), computed once per data version
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
        self.hit = get_conditional_response(
            request, etag=response.headers.get("ETag"), last_modified=self.version.modified, response=response
        )

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
            set_etag(response)
        # A page that set a cookie (a CSRF token, a message) belongs to one visitor only.
        if response.cookies or self.request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
            return
        headers = {name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers}
        cache.set(self.key, (response.status_code, headers, response.content), RESPONSE_TIMEOUT)


def cache_public_page(view, *, per_day=False):
    """Cache a function view's GET responses for anonymous visitors under the data version.

    `per_day`: the page also shows today's date (an access date to cite), so it is kept per day."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return view(request, *args, **kwargs)
        variant = f"html|{timezone.localdate().isoformat()}" if per_day else "html"
        cached = ResponseCache(request, variant=variant)
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
