"""OpenAPI pieces shared by the API views: error bodies and the responses of a read."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

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
