"""Health endpoints for the container healthcheck and the load balancer.

/healthz: the process is up and answering (touches nothing else), for "restart it if this fails".
/readyz:  the database answers (and the shared cache, when REDIS_URL is set), for "send it traffic";
          503 with a JSON reason otherwise.
"""

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return _unavailable(f"database: {type(exc).__name__}")
    checks = {"database": "ok"}
    if settings.REDIS_URL:
        try:
            cache.get("readyz")
        except Exception as exc:  # any client error means the shared cache cannot be used
            return _unavailable(f"cache: {type(exc).__name__}")
        checks["cache"] = "ok"
    return JsonResponse({"status": "ok", **checks})


def _unavailable(reason):
    response = JsonResponse({"status": "unavailable", "reason": reason}, status=503)
    response["Retry-After"] = "5"
    return response
