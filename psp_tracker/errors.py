"""Our 400, 403, 404 and 500 pages (handler400... in urls.py) and the CSRF failure view: HTML from
templates/<code>.html, or problem details (problems.py) for the API and JSON clients. They show no
detail of the error; the log has it, with the request id."""

import sys

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponseServerError
from django.template.loader import render_to_string
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.defaults import bad_request as django_bad_request
from django.views.defaults import page_not_found as django_page_not_found
from django.views.defaults import permission_denied as django_permission_denied

from .middleware import DATABASE_DOWN_ERRORS, database_unavailable_response, wants_json
from .problems import problem_response

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have permission to see this page.",
    404: "Not found.",
    413: "The request body is larger than this server accepts.",
    500: "Something went wrong on our side. It has been logged.",
}


def _json(status, errors=()):
    return problem_response(status, MESSAGES[status], errors)


def bad_request(request, exception):
    if isinstance(exception, RequestDataTooBig):
        # Django raises it (a SuspiciousOperation, hence handler400) past DATA_UPLOAD_MAX_MEMORY_SIZE.
        if wants_json(request):
            return _json(413, [("body", MESSAGES[413])])
        response = django_bad_request(request, exception, template_name="400.html")
        response.status_code = 413
        return response
    if wants_json(request):
        return _json(400)
    return django_bad_request(request, exception, template_name="400.html")


def permission_denied(request, exception):
    if wants_json(request):
        return _json(403)
    return django_permission_denied(request, exception, template_name="403.html")


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a session-authenticated write without its CSRF token. Under the API it
    is a problem too (partners send a token instead of the session cookie)."""
    if wants_json(request):
        return problem_response(
            403,
            "CSRF check failed: a write with a session cookie needs the CSRF token; API clients "
            "should send a token (Authorization: Token …) instead.",
            [("X-CSRFToken", reason or "CSRF token missing or incorrect.")],
        )
    return django_csrf_failure(request, reason)


def page_not_found(request, exception):
    if wants_json(request):
        return _json(404)
    return django_page_not_found(request, exception, template_name="404.html")


def server_error(request):
    """A lost database connection is a 503 (the site is down for a moment, not broken)."""
    _, exc, _ = sys.exc_info()
    if isinstance(exc, DATABASE_DOWN_ERRORS):
        return database_unavailable_response(request)
    if wants_json(request):
        return _json(500)
    # Rendered without the request, like Django's own: context processors could fail again.
    try:
        body = render_to_string("500.html", {"message": MESSAGES[500]})
    except Exception:  # the page must be served whatever else is broken
        body = "<!doctype html><title>Server error</title><h1>Server error</h1>"
    return HttpResponseServerError(body)
