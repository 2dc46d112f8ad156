"""Health endpoints for the container healthcheck and the load balancer.

/healthz: the process is up and answering (touches nothing else), for "restart it if this fails";
          GET and HEAD.
/readyz:  the database answers, for "send it traffic"; 503 with a JSON reason otherwise. The
          database alone decides: Redis is an accelerator, so a Redis that does not answer is
          reported ("cache": "degraded") while the answer stays 200. Pulling every instance out of
          the load balancer because the cache is down would turn a slower site into no site.
"""

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return _unavailable(f"database: {type(exc).__name__}")
    checks = {"database": "ok"}
    if settings.REDIS_URL:
        checks["cache"] = _cache_state("default")
        if settings.REDIS_COUNTERS_URL != settings.REDIS_URL:
            checks["counters"] = _cache_state("throttle")
    return JsonResponse({"status": "ok", **checks})


def _cache_state(alias):
    backend = caches[alias]
    ping = getattr(backend, "ping", None)
    if ping is None:  # not our Redis backend (local memory): nothing to report
        return "ok"
    return "ok" if ping() else "degraded"


def _unavailable(reason):
    response = JsonResponse({"status": "unavailable", "reason": reason}, status=503)
    response["Retry-After"] = "5"
    return response
