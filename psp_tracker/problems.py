"""Problem details (RFC 9457): the one shape of every error the API answers.

    {"type": "about:blank", "title": "Bad Request", "status": 400,
     "detail": "1 parameter or field was not accepted: status.",
     "errors": [{"name": "status", "reason": "Select a valid choice. …"}]}

served as `application/problem+json`. `errors` names each parameter or field that was refused (a
nested field as `source.title`, the body as a whole as `body`); it is empty when no single one is to
blame (a 404, a 429). `type` is `about:blank`, so `title` is the HTTP status phrase (RFC 9457 §4.2.1).

Every door that answers an error under /api/ builds its body here: DRF's exception handler (below,
in settings), Django's error views (errors.py), the CSRF failure view, the API's unmatched routes,
the rate limit and the database-down 503 (middleware), so that a client needs one parser.
"""

from http import HTTPStatus

from django.http import JsonResponse

CONTENT_TYPE = "application/problem+json"
BODY = "body"  # the name of an error that concerns the request body as a whole


def title_for(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem(status, detail, errors=()):
    """The problem-details dict for a status, a sentence and (name, reason) pairs."""
    return {
        "type": "about:blank",
        "title": title_for(status),
        "status": status,
        "detail": str(detail),
        "errors": [{"name": str(name), "reason": str(reason)} for name, reason in errors],
    }


def problem_response(status, detail, errors=(), **headers):
    response = JsonResponse(problem(status, detail, errors), status=status, content_type=CONTENT_TYPE)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def flatten(detail, prefix=""):
    """(name, reason) pairs of a DRF error detail: a dict of fields (nested dicts give dotted names,
    lists of objects give `name.0.field`), a list of messages, or one message."""
    if isinstance(detail, dict):
        pairs = []
        for key, value in detail.items():
            name = BODY if key in ("non_field_errors", "__all__") else str(key)
            pairs.extend(flatten(value, f"{prefix}.{name}" if prefix and name != BODY else (prefix or name)))
        return pairs
    if isinstance(detail, list | tuple):
        pairs = []
        for index, value in enumerate(detail):
            if isinstance(value, dict):
                pairs.extend(flatten(value, f"{prefix}.{index}" if prefix else str(index)))
            else:
                pairs.extend(flatten(value, prefix))
        return pairs
    return [(prefix or BODY, str(detail))]


def summary(status, pairs):
    """A `detail` sentence for a refused request: the names, once each, in order."""
    names = list(dict.fromkeys(name for name, _ in pairs))
    if len(pairs) == 1:
        return pairs[0][1]
    noun = "parameter or field" if len(names) == 1 else "parameters or fields"
    return f"{len(names)} {noun} not accepted: {', '.join(names)}."
