"""Staff writes through the partner API: the same services, rule, roles and history as the admin.

The ViewSets in views.py mix these in; what a write accepts is write_input.py's. A write:

- needs a staff account with the model permission (an Editor or a Reviewer); partner tokens and
  anonymous clients read only;
- honors `If-Match`: the ETag a GET of the same resource returned (the conditional-GET ETag of
  `api.ConditionalGetMixin`, a hash of the representation, which includes the `version` raised by
  every write). A stale ETag answers 412 and changes nothing; the version read with the ETag is
  checked again under the row lock, so a write racing in between is refused too;
- goes through `services` with via="api" and the token's user, so the rule (400 naming the unmet
  requirements), the roles (403 when an Editor admits) and the audit trail are the admin's.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.exceptions import APIException
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .. import services
from ..etags import etag_for
from .serializers import CertificationDetailSerializer, EnrollmentDetailSerializer, JurisdictionSerializer
from .write_input import (
    VIA,
    CertificationWriteSerializer,
    EnrollmentCreateSerializer,
    EnrollmentWriteSerializer,
    JurisdictionCreateSerializer,
    as_api_error,
    refuse_unknown_fields,
    refuse_wrong_types,
    request_body,
    resolve_source,
)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The record exists already."
    default_code = "conflict"


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource changed since you read it; GET it again and reapply your change."
    default_code = "precondition_failed"


class PreconditionRequired(APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = (
        "This write needs an If-Match header: GET the resource, then send its ETag header's value "
        "as If-Match, so that a change made since you read it is not overwritten."
    )
    default_code = "precondition_required"


class StaffModelPermissions(permissions.DjangoModelPermissions):
    """Reads are open (the API's other permissions decide); a write needs the model permission
    (POST: add, PATCH: change), which the Editor and Reviewer groups give."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        if getattr(view, request.method.lower(), None) is None:
            return True  # a method the resource does not offer answers 405, whoever asks
        return super().has_permission(request, view)


# -- the writes ------------------------------------------------------------------------------------


FIELD_ERRORS = {
    "type": "object",
    "description": "Each field that was refused, with its messages (the rule's under status).",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
DETAIL = {"type": "object", "properties": {"detail": {"type": "string", "description": "Why, in words."}}}
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=True,
    description=(
        "The ETag of your last GET of this resource (required: 428 without it): the write is "
        "refused with 412 when the resource changed since, so nobody overwrites another's change."
    ),
)


def write_schema(request, response, summary, *, created=False, precondition=True):
    ok = 201 if created else 200
    responses = {
        ok: OpenApiResponse(response, description="The resource as written, with its new ETag."),
        400: OpenApiResponse(FIELD_ERRORS, description="A field is invalid or the rule refuses the status."),
        401: OpenApiResponse(DETAIL, description="No valid token was given."),
        403: OpenApiResponse(DETAIL, description="The token is not staff, or the role may not do this."),
        404: OpenApiResponse(DETAIL, description="No such resource."),
    }
    if created:
        responses[409] = OpenApiResponse(
            FIELD_ERRORS, description="The record was created meanwhile by another request."
        )
    if precondition:
        responses[412] = OpenApiResponse(DETAIL, description="If-Match does not match: it changed since.")
        responses[428] = OpenApiResponse(DETAIL, description="No If-Match header: GET the resource first.")
    return extend_schema(
        summary=summary,
        request=request,
        responses=responses,
        parameters=[IF_MATCH] if precondition else [],
    )


class StaffWriteMixin:
    """Shared by the writable ViewSets: If-Match, error translation and the response."""

    def representation_etag(self, request, instance):
        """The ETag a JSON GET of `instance` carries (api.ConditionalGetMixin hashes the body)."""
        renderer = next((r for r in self.get_renderers() if r.format == "json"), JSONRenderer())
        response = Response(self.get_serializer(instance).data)
        response.accepted_renderer = renderer
        response.accepted_media_type = renderer.media_type
        response.renderer_context = self.get_renderer_context()
        response.render()
        return etag_for(response.content)

    def expected_version(self, request, instance):
        """The version the client's If-Match stands for; 412 when it is not the current one."""
        header = request.headers.get("If-Match")
        if header is None or not header.strip():
            # A client that omits it (or sends it blank) would overwrite silently.
            raise PreconditionRequired()
        etags = parse_etags(header)
        if "*" in etags:
            return instance.version
        current = self.representation_etag(request, instance)
        if current not in etags:
            raise PreconditionFailed(
                f"This {instance._meta.verbose_name} changed since you read it (If-Match {header}, "
                f"now {current}); nothing was written. GET it again and reapply your change."
            )
        return instance.version

    def run_service(self, write):
        try:
            return write()
        except services.StaleWriteError as exc:
            raise PreconditionFailed(str(exc)) from None
        except services.DuplicateRecordError as exc:
            # Another request created the same record a moment before this one.
            raise Conflict(dict(exc.message_dict)) from None
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None

    def written_response(self, request, instance, status_code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=instance.pk)
        response = Response(self.get_serializer(fresh).data, status=status_code)
        response["ETag"] = self.representation_etag(request, fresh)
        if status_code == status.HTTP_201_CREATED:
            # A plain str: the serializer's URL is DRF's Hyperlink (a str subclass), which WSGI
            # servers that check header types (wsgiref, runserver) refuse after the record is saved.
            response["Location"] = str(response.data["url"])
        return response

    def validated(self, request, serializer_class, instance=None, *, expected=None):
        """The body's values, checked; then (for a PATCH) If-Match. The precondition comes after the
        request's own checks (RFC 9110 §13.2.1): a bad body is a 400 whatever If-Match says."""
        data = request_body(request)
        refuse_unknown_fields(data, serializer_class)
        serializer = serializer_class(
            instance, data=data, partial=instance is not None, context=self.get_serializer_context()
        )
        refuse_wrong_types(data, serializer)
        serializer.is_valid(raise_exception=True)
        if expected is not None:
            expected.append(self.expected_version(request, instance))
        values = dict(serializer.validated_data)
        for name in ("source", "second_source", "site_type_source"):
            if name in values:
                values[name] = resolve_source(values[name], user=request.user)
        return values


class EnrollmentWriteMixin(StaffWriteMixin):
    """PATCH /enrollments/<id>/ (status, dates, notes, source) and POST /enrollments/."""

    @write_schema(EnrollmentWriteSerializer, EnrollmentDetailSerializer, "Change an enrollment (staff)")
    @transaction.atomic
    def partial_update(self, request, *args, **kwargs):
        enrollment = self.get_object()
        expected = []
        values = self.validated(request, EnrollmentWriteSerializer, enrollment, expected=expected)
        self.run_service(
            lambda: services.enrollment_update(
                enrollment=enrollment, user=request.user, via=VIA, expected_version=expected[0], **values
            )
        )
        return self.written_response(request, enrollment)

    @write_schema(
        EnrollmentCreateSerializer,
        EnrollmentDetailSerializer,
        "Enrol a jurisdiction in a program (staff)",
        created=True,
        precondition=False,
    )
    @transaction.atomic
    def create(self, request, *args, **kwargs):
        values = self.validated(request, EnrollmentCreateSerializer)
        enrollment = self.run_service(
            lambda: services.enrollment_create(user=request.user, via=VIA, **values)
        )
        return self.written_response(request, enrollment, status.HTTP_201_CREATED)


class CertificationWriteMixin(StaffWriteMixin):
    """PATCH /certifications/<id>/: the answer and its evidence."""

    @write_schema(
        CertificationWriteSerializer,
        CertificationDetailSerializer,
        "Change an answer and its evidence (staff)",
    )
    @transaction.atomic
    def partial_update(self, request, *args, **kwargs):
        certification = self.get_object()
        expected = []
        values = self.validated(request, CertificationWriteSerializer, certification, expected=expected)
        self.run_service(
            lambda: services.certification_update(
                certification=certification,
                user=request.user,
                via=VIA,
                expected_version=expected[0],
                **values,
            )
        )
        return self.written_response(request, certification)


class JurisdictionCreateMixin(StaffWriteMixin):
    """POST /jurisdictions/."""

    @write_schema(
        JurisdictionCreateSerializer,
        JurisdictionSerializer,
        "Add a jurisdiction (staff)",
        created=True,
        precondition=False,
    )
    @transaction.atomic
    def create(self, request, *args, **kwargs):
        values = self.validated(request, JurisdictionCreateSerializer)
        jurisdiction = self.run_service(
            lambda: services.jurisdiction_create(user=request.user, via=VIA, **values)
        )
        return self.written_response(request, jurisdiction, status.HTTP_201_CREATED)
