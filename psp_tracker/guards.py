"""Request guards that every response passes: security headers on everything (static files and
error pages included), the exact host and port, and the methods a public page answers.

- `SecurityHeadersMiddleware` sits outermost (after the request id), so that a response produced
  anywhere inside (WhiteNoise's static files, a 400 for a refused host, a 404, a 429, a 503, a 500)
  still carries Content-Security-Policy, X-Frame-Options, X-Content-Type-Options and
  Referrer-Policy. Headers set by the inner middleware (django-csp, SecurityMiddleware) win. A
  response marked `xframe_options_exempt` (the embeds) gets no X-Frame-Options; its CSP's
  `frame-ancestors` says who may frame it.
- `StrictHostMiddleware`: Django matches ALLOWED_HOSTS on the host name only, so `localhost:31337`
  passed wherever `localhost` did, and absolute URLs built from it (the API's `url`, `next`) pointed
  at that port. A Host header with a port is accepted only when that exact `host:port` is listed in
  DJANGO_ALLOWED_HOSTS (or the port is the scheme's default); debug runs accept any port. With
  PUBLIC_BASE_URL set, absolute URLs are built from it and never from the request's Host.
- `MethodPolicyMiddleware`: TRACE (and TRACK, CONNECT) is refused everywhere with 405. A public page
  (not /api/, not /admin/) answers GET and HEAD; OPTIONS there answers 204 with the Allow header
  (the one useful thing to say), and any other method 405. The API keeps DRF's own OPTIONS answer
  (its description of the resource) and the admin its forms.
"""

import re

from csp.utils import build_policy
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpResponse, HttpResponseNotAllowed

from .problems import problem_response

REFUSED_EVERYWHERE = {"TRACE", "TRACK", "CONNECT"}
PUBLIC_METHODS = ("GET", "HEAD", "OPTIONS")
# /alerts/: the e-mail alert forms (subscribe, confirm, unsubscribe) take POST, each with CSRF.
# The alert pages and the report form exist in English and, under /es/, in Spanish (issue 19).
OWN_METHOD_HANDLING = ("/api/", "/admin/", "/alerts/", "/es/alerts/")
# The one public form (issue 14: report an error on a jurisdiction's page) also takes POST.
PUBLIC_FORM_PATH = re.compile(r"^(?:/es)?/jurisdictions/[a-z0-9-]+/report/$")
DEFAULT_PORTS = {"http": "80", "https": "443"}


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.headers = {
            "Content-Security-Policy": build_policy(config=settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]),
            "X-Frame-Options": settings.X_FRAME_OPTIONS,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": settings.SECURE_REFERRER_POLICY,
        }

    def __call__(self, request):
        response = self.get_response(request)
        for name, value in self.headers.items():
            if name == "X-Frame-Options" and getattr(response, "xframe_options_exempt", False):
                continue  # an embed (jurisdictions/embeds.py): any site may frame it, by its CSP
            response.headers.setdefault(name, value)
        return response


def split_host(host):
    """("name", "port") of a Host header value; port is "" when absent."""
    if host.startswith("["):  # [IPv6]:port
        name, _, rest = host[1:].partition("]")
        return f"[{name}]", rest.lstrip(":")
    name, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
    return (name, port) if name else (host, "")


class StrictHostMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.DEBUG:
            allowed = {entry.lower() for entry in settings.ALLOWED_HOST_PORTS}
            raw = request.META.get("HTTP_HOST", "")
            name, port = split_host(raw.lower())
            if port and f"{name}:{port}" not in allowed and port != DEFAULT_PORTS[request.scheme]:
                # Handled like Django's own refused host: a 400 page, logged without a traceback.
                raise DisallowedHost(
                    f"Invalid HTTP_HOST header: {raw!r}. A port is accepted only when that host:port "
                    "is listed in DJANGO_ALLOWED_HOSTS."
                )
        if settings.PUBLIC_BASE_URL:
            # Absolute URLs (the API's `url`, `next`, feed links) come from the configured origin,
            # never from the request's Host: build_absolute_uri reads this cached property.
            request.__dict__["_current_scheme_host"] = settings.PUBLIC_BASE_URL
        return self.get_response(request)


def _declared_length(request):
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class MethodPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        method = request.method.upper()
        if (
            request.path.startswith("/api/")
            and _declared_length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        ):
            # DRF's parsers read the stream without Django's size check: refused here, unread.
            return problem_response(
                413,
                f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
                [("body", "Too large.")],
            )
        if method in REFUSED_EVERYWHERE:
            if request.path.startswith("/api/"):
                # Every answer under the API is problem details (issue 16).
                return problem_response(
                    405, f"Method “{method}” is not allowed.", Allow=", ".join(PUBLIC_METHODS)
                )
            return HttpResponseNotAllowed(PUBLIC_METHODS)
        if method == "POST" and PUBLIC_FORM_PATH.match(request.path):
            return self.get_response(request)
        if not request.path.startswith(OWN_METHOD_HANDLING) and method not in ("GET", "HEAD"):
            if method == "OPTIONS":
                response = HttpResponse(status=204)
                response["Allow"] = ", ".join(PUBLIC_METHODS)
                return response
            return HttpResponseNotAllowed(PUBLIC_METHODS)
        return self.get_response(request)
