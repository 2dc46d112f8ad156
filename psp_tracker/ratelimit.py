"""Rate limits for anonymous clients on the public site (pages, feeds, CSV); the API's own throttles
count in the same store (see throttles.py).

Every anonymous request outside /api/ (DRF throttles those), /admin/ (staff; the login has its own
lockout), /static/ and the health endpoints counts against PUBLIC_RATE per client address
(`client_ip`, DJANGO_NUM_PROXIES); a CSV download counts also against PUBLIC_CSV_RATE, since one
costs a hundred pages. Past a limit the answer is 429 with `Retry-After` (seconds to the end of the
window). Logged-in staff are not limited.

Counters are fixed windows (`<scope>:<address>:<window number>`, expiring with the window) in the
`throttle` cache: a Redis of their own in production (REDIS_COUNTERS_URL, compose's
`redis-counters`, `noeviction`), so that filling the response cache cannot evict them. When that
Redis fails, the cache backend counts per process instead and logs it (psp_tracker/cache_backends.py):
the limit then holds per gunicorn worker, never fails closed.
"""

import logging
import math
import time
from typing import NamedTuple

from django.conf import settings
from django.core.cache import caches
from django.http import HttpResponse

from .middleware import client_ip, wants_json
from .problems import problem_response

logger = logging.getLogger("psp_tracker.ratelimit")

EXEMPT_PREFIXES = ("/api/", "/admin/", "/healthz", "/readyz")
PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
PERIODS.update({"d": 86400, "day": 86400})


class Rate(NamedTuple):
    count: int
    seconds: int

    @classmethod
    def parse(cls, text):
        count, _, period = text.partition("/")
        return cls(int(count), PERIODS[period])


def count_hit(scope, ident, rate, now=None):
    """Count one request; the seconds to wait when it is over the limit, else None."""
    now = time.time() if now is None else now
    window = int(now // rate.seconds)
    key = f"rl:{scope}:{ident}:{window}"
    counters = caches["throttle"]
    try:
        count = counters.incr(key)
    except ValueError:  # the first request of the window
        count = 1 if counters.add(key, 1, timeout=rate.seconds + 1) else counters.incr(key)
    if count > rate.count:
        return max(1, math.ceil((window + 1) * rate.seconds - now))
    return None


def too_many_requests(request, retry_after, what):
    message = f"Too many requests: {what}. Please wait {retry_after} seconds."
    if wants_json(request):
        response = problem_response(429, message)
    else:
        response = HttpResponse(
            f"<!doctype html><title>Too many requests</title><h1>Too many requests</h1><p>{message}</p>",
            status=429,
        )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


class AnonymousRateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.page_rate = Rate.parse(settings.PUBLIC_RATE)
        self.csv_rate = Rate.parse(settings.PUBLIC_CSV_RATE)
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request):
        path = request.path
        if path.startswith(EXEMPT_PREFIXES) or path.startswith(self.static_prefix):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return self.get_response(request)
        ident = client_ip(request) or "unknown"
        wait = count_hit("page", ident, self.page_rate)
        if wait is not None:
            return self._refused(request, ident, wait, f"more than {settings.PUBLIC_RATE} pages")
        # The data package's CSV files (/downloads/*.csv) cost like a CSV export of the list.
        if request.GET.get("format") == "csv" or path.endswith(".csv"):
            wait = count_hit("csv", ident, self.csv_rate)
            if wait is not None:
                return self._refused(
                    request, ident, wait, f"more than {settings.PUBLIC_CSV_RATE} CSV downloads"
                )
        return self.get_response(request)

    def _refused(self, request, ident, wait, what):
        logger.info("rate limited %s: %s", ident, what, extra={"path": request.path, "client": ident})
        return too_many_requests(request, wait, what)
