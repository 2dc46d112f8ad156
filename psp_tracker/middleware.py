"""Request ids, structured logs, the client address behind proxies, and a clean 503 when the database
is unreachable.

Every request gets an id: the caller's `X-Request-ID` when it sends a sensible one (a proxy or load
balancer usually does), a new random one otherwise. The id is echoed in the response header and added
to every log line written while the request runs, so one request can be followed across the logs of
the proxy, each web container and the error that it may have raised.
"""

import contextvars
import ipaddress
import itertools
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string

from .problems import problem_response

logger = logging.getLogger("psp_tracker.request")

# Ids from outside are used only when they are short and plain, so they cannot forge log lines.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_current_request_id = contextvars.ContextVar("request_id", default="-")

# The errors a lost or refused database connection raises; anything else stays a real 500.
DATABASE_DOWN_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def current_request_id():
    return _current_request_id.get()


def client_ip(request):
    """The client's address, trusting exactly DJANGO_NUM_PROXIES proxies in front of us.

    Each proxy appends the address it received the request from to X-Forwarded-For, so with N proxies
    the client is the N-th entry from the end; entries before it were written by the client itself.
    The same rule as DRF's throttles (NUM_PROXIES), used also for the login lockout.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not proxies or not forwarded:
        return remote
    entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
    if not entries:
        return remote
    candidate = entries[-min(proxies, len(entries))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


class RequestIdMiddleware:
    """Gives each request an id, echoes it as X-Request-ID and logs one line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        offered = request.headers.get("X-Request-ID", "")
        request_id = offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex
        request.request_id = request_id
        token = _current_request_id.set(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "client": client_ip(request),
                },
            )
            return response
        finally:
            _current_request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds the current request id (or "-") to every log record."""

    def filter(self, record):
        # django.request logs a 4xx/5xx after the middleware has returned, passing the request along.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or _current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and the request fields."""

    FIELDS = ("method", "path", "status", "duration_ms", "client")

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", _current_request_id.get()),
        }
        for field in self.FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def wants_json(request):
    """API paths and clients that ask for JSON rather than HTML get JSON error bodies."""
    if request.path.startswith("/api/"):
        return True
    return request.accepts("application/json") and not request.accepts("text/html")


def database_unavailable_response(request):
    """503 with a short explanation, never a traceback; it touches neither the database nor the session."""
    message = "The database is unavailable at the moment. Please try again in a few seconds."
    if wants_json(request):
        response = problem_response(503, message)
    else:
        try:
            # No request (so no context processors, which could read the session from the database).
            body = render_to_string("503.html", {"message": message})
        except Exception:  # the page must be served whatever else is broken
            body = f"<!doctype html><title>Service unavailable</title><h1>Service unavailable</h1><p>{message}</p>"
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """A view that loses its database connection answers 503 (HTML or JSON) instead of a 500.

    Django marks the broken connection and, since CONN_HEALTH_CHECKS is on, replaces it at the start
    of a later request, so the site serves again as soon as the database is back, without a restart.
    Errors raised outside a view reach `psp_tracker.errors.server_error`, which does the same.

    A streaming response (the CSV exports) reads the database only when the server iterates it,
    after the view has returned; its first chunk is therefore produced here, so that a database that
    is down before the first byte gives the same 503 rather than a broken 200.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.streaming and not getattr(response, "is_async", False):
            chunks = iter(response.streaming_content)
            try:
                first = next(chunks, None)
            except DATABASE_DOWN_ERRORS as exc:
                response.close()
                return self._unavailable(request, exc)
            response.streaming_content = itertools.chain(() if first is None else (first,), chunks)
        return response

    def _unavailable(self, request, exception):
        logger.warning("database unavailable: %s", type(exception).__name__, extra={"path": request.path})
        return database_unavailable_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_DOWN_ERRORS):
            return self._unavailable(request, exception)
        return None
