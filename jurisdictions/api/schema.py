"""OpenAPI pieces shared by the API views: error bodies and the responses of a read."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from ..filters import SEARCH_MAX_LENGTH, JurisdictionFilter, StatusChangeFilter
from ..models import geoid_validator, ocd_id_validator

ERROR_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "What went wrong, in words."}},
    "required": ["detail"],
}
PARAMETER_ERRORS = {
    "type": "object",
    "description": "Each query parameter that was not understood, with its messages.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    location=OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait before the next request.",
)


def read_responses(ok, description, *, not_found="No such resource."):
    """The responses of a read, for the schema (errors are JSON whatever format was asked)."""
    json = "application/json"
    return {
        (200, json): OpenApiResponse(ok, description=description),
        (400, json): OpenApiResponse(
            PARAMETER_ERRORS,
            description="A query parameter has a bad value or is unknown; the body names it.",
        ),
        (401, json): OpenApiResponse(ERROR_DETAIL, description="The token given is not valid."),
        (404, json): OpenApiResponse(ERROR_DETAIL, description=not_found),
        (429, json): OpenApiResponse(ERROR_DETAIL, description="Too many requests; see Retry-After."),
    }


# --- The contract, completed once for every operation (SPECTACULAR_SETTINGS POSTPROCESSING_HOOKS) ---

PROBLEM = "application/problem+json"
PROBLEM_SCHEMA = {
    "type": "object",
    "description": "Problem details (RFC 9457), the body of every error under /api/.",
    "required": ["type", "title", "status", "detail", "errors"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem; about:blank here."},
        "title": {"type": "string", "description": "The HTTP status phrase, e.g. Bad Request."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What went wrong, in words."},
        "errors": {
            "type": "array",
            "description": (
                "Each parameter, header or field that was refused (a nested field as source.title, "
                "the body as a whole as body); empty when no single one is to blame."
            ),
            "items": {"$ref": "#/components/schemas/ProblemError"},
        },
    },
}
PROBLEM_ERROR_SCHEMA = {
    "type": "object",
    "required": ["name", "reason"],
    "properties": {
        "name": {"type": "string", "description": "The parameter, header or field."},
        "reason": {"type": "string", "description": "Why it was refused."},
    },
}
READ_ERRORS = {
    "400": "A query parameter has a bad value or is unknown; `errors` names it.",
    "401": "The token or session given is not valid (reading needs none).",
    "404": "No such resource, a page past the end, a cursor the API did not give, or a filter slug naming no record.",
    "406": "No representation matches the Accept header.",
    "429": "Too many requests; see Retry-After.",
}
WRITE_ERRORS = {
    "400": "A field is invalid, unknown or read-only, or the rule refuses the status; `errors` names it.",
    "401": "No valid token was given.",
    "403": "The token is not staff, the role may not do this, or a session write lacks its CSRF token.",
    "404": "No such resource.",
    "406": "No representation matches the Accept header.",
    "413": "The body is larger than the server accepts.",
    "415": "The body is not JSON (Content-Type: application/json).",
    "429": "Too many requests; see Retry-After.",
}
CONDITIONAL_READ = [
    {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "An ETag from an earlier response: 304 Not Modified while it still matches.",
        "schema": {"type": "string"},
    },
    {
        "name": "If-Modified-Since",
        "in": "header",
        "required": False,
        "description": "An HTTP date: 304 Not Modified when nothing changed since.",
        "schema": {"type": "string"},
    },
]
RESPONSE_VALIDATORS = {
    "ETag": {
        "description": "Send it back as If-None-Match (reads) or If-Match (writes).",
        "schema": {"type": "string"},
    },
    "Last-Modified": {"description": "When the data last changed (HTTP date).", "schema": {"type": "string"}},
}
SLUG_PATTERN = "^[-a-zA-Z0-9_]+$"
# What the filters check beyond the type drf-spectacular infers (filters.py): a slug's shape, the
# search's length and its refusal of NUL characters, the answer's `<code>:<answer>` form. A
# well-formed slug or requirement code that names nothing is a 404 (filtering.py).
PARAMETER_CONSTRAINTS = {
    "program": {"pattern": SLUG_PATTERN},
    "jurisdiction": {"pattern": SLUG_PATTERN},
    "search": {"maxLength": SEARCH_MAX_LENGTH, "pattern": "^[^\\u0000]*$"},
    "answer": {"items": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+:(yes|no|not_applicable|unknown)$"}},
    # The identifiers' own validators (models/base.py), so the schema and the 400 never disagree.
    "geoid": {"pattern": geoid_validator.regex.pattern, "maxLength": 15},
    "ocd_id": {"pattern": ocd_id_validator.regex.pattern, "maxLength": 300},
}
# Filter parameters whose empty value means "any" (the page's form sends them so): documented as
# allowed, so that a client may send them and a fuzzer does not take them for invalid input.
EMPTY_ALLOWED = frozenset(JurisdictionFilter.base_filters) | frozenset(StatusChangeFilter.base_filters)
SECURITY_SCHEMES = [{"tokenAuth": []}, {"cookieAuth": []}]


def _problem_response(description):
    return {
        "description": description,
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def complete_contract(result, generator, request, public):
    """What every operation shares, written once: problem-details error responses, the conditional
    request headers and 304, empty filter values, the JSON-only request bodies that refuse unknown
    fields, and the security of each operation as its permissions decide it: none where anyone may
    call it (no padlock in the docs), the token or the session where one is needed."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["ProblemError"] = PROBLEM_ERROR_SCHEMA
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            read = method in ("get", "head")
            # drf-spectacular adds the empty requirement {} where the view's permissions let anyone
            # in (IsAuthenticatedOrReadOnly on a read, AllowAny): a token is then accepted but not
            # needed, which the docs show best as no requirement at all. A partner's webhooks need
            # the token to be read too, so the method alone cannot decide it.
            public = {} in operation.get("security", [])
            operation["security"] = [] if public else SECURITY_SCHEMES
            responses = operation.setdefault("responses", {})
            for code, description in (READ_ERRORS if read else WRITE_ERRORS).items():
                responses.setdefault(code, {"description": description})
            for code, response in responses.items():
                if int(code) >= 400:
                    problem = _problem_response(response.get("description", ""))
                    if response.get("headers"):
                        problem["headers"] = response["headers"]
                    responses[code] = problem
            if read:
                parameters = operation.setdefault("parameters", [])
                parameters.extend(CONDITIONAL_READ)
                for code, response in responses.items():
                    if code.startswith("2"):
                        response.setdefault("headers", {}).update(RESPONSE_VALIDATORS)
                responses["304"] = {
                    "description": "Not modified: the ETag sent as If-None-Match still matches (no body).",
                    "headers": RESPONSE_VALIDATORS,
                }
                for parameter in parameters:
                    if parameter["in"] == "query" and parameter["name"] in EMPTY_ALLOWED:
                        parameter["allowEmptyValue"] = True
                    if parameter["in"] == "query" and parameter["name"] in PARAMETER_CONSTRAINTS:
                        parameter["schema"] = {
                            **parameter["schema"],
                            **PARAMETER_CONSTRAINTS[parameter["name"]],
                        }
            else:
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "header" and parameter["name"] == "If-Match":
                        # Blank is the same as absent: 428 (writes.py).
                        parameter["schema"] = {**parameter["schema"], "minLength": 1}
                body = operation.get("requestBody")
                if body:
                    body["content"] = {"application/json": body["content"]["application/json"]}
                    _close(schemas, body["content"]["application/json"]["schema"])
                for response in responses.values():
                    if "content" in response and not response.get("content", {}).get(PROBLEM):
                        response.setdefault("headers", {})["ETag"] = RESPONSE_VALIDATORS["ETag"]
    return result


def _close(schemas, schema, seen=None):
    """additionalProperties: false on a request body and the objects nested in it (writes.py
    refuses unknown fields at both levels)."""
    seen = set() if seen is None else seen
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return
        seen.add(name)
        schema = schemas[name]
    for part in schema.get("allOf", []) + schema.get("anyOf", []) + schema.get("oneOf", []):
        _close(schemas, part, seen)
    if schema.get("type") == "object" or "properties" in schema:
        schema["additionalProperties"] = False
        for child in schema.get("properties", {}).values():
            _close(schemas, child, seen)
