"""DRF's exception handler (settings: EXCEPTION_HANDLER): every error a view raises becomes problem
details (psp_tracker/problems.py), in JSON whatever format was asked (a CSV, the browsable API's
HTML, or an Accept header nothing satisfies), with DRF's headers kept (Allow, Retry-After,
WWW-Authenticate)."""

from rest_framework import exceptions
from rest_framework.views import exception_handler

from psp_tracker.problems import BODY, CONTENT_TYPE, flatten, problem, summary

from .renderers import FastJSONRenderer

# Errors that concern one header or the body as a whole, named as such in `errors`.
NAMED_BY_KIND = {
    exceptions.ParseError: BODY,
    exceptions.UnsupportedMediaType: "Content-Type",
    exceptions.NotAcceptable: "Accept",
}


def problem_exception_handler(exc, context):
    response = exception_handler(exc, context)
    if response is None:
        return None  # a server error: Django's handler500 answers (errors.py), also as a problem
    detail = getattr(exc, "detail", None)
    if isinstance(exc, exceptions.ValidationError) or isinstance(detail, dict | list):
        pairs = flatten(detail)
        sentence = summary(response.status_code, pairs)
    else:
        sentence = str(detail if detail is not None else response.data.get("detail", ""))
        name = next((n for kind, n in NAMED_BY_KIND.items() if isinstance(exc, kind)), None)
        name = getattr(exc, "parameter", None) or name
        pairs = [(name, sentence)] if name else []
    response.data = problem(response.status_code, sentence, pairs)
    response.content_type = CONTENT_TYPE
    request = context.get("request")
    if request is not None:
        # Errors are JSON for every client, a browser or a CSV download included.
        request.accepted_renderer = FastJSONRenderer()
        request.accepted_media_type = FastJSONRenderer.media_type
    return response
