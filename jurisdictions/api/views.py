"""The partner JSON API (/api/v1/): declarative read-only ViewSets over the models.

Filtering goes through the shared FilterSets in filters.py, pagination through `ApiPagination`
(settings; page numbers and cursors), HTTP caching through conditional.py, throttling through DRF's anonymous/user throttles (settings). Only staff write
(`StaffWriteOrReadOnly`, then the model permission of their role); the writes themselves (PATCH an
enrollment or a certification, POST a jurisdiction or an enrollment, If-Match) live in writes.py
and go through the same services, rule, roles and history as the admin.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Q
from django.http import Http404, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, renderers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings

from .. import rows
from ..as_of import parse as as_of_day
from ..cache import CachedListMixin, CachedReadMixin, CachedRetrieveMixin
from ..filters import JurisdictionFilter, StatusChangeFilter
from ..filtersets import NON_FILTER_PARAMS
from ..models import (
    Certification,
    Enrollment,
    Jurisdiction,
    Program,
    StatusChange,
)
from ..transfer import csvio, geojson
from .conditional import ConditionalGetMixin
from .exports import EXPORT_FORMATS, GEOJSON_SCHEMA, CSVRenderer, GeoJSONRenderer
from .filtering import ApiFilterBackend, checked
from .pagination import one_value, whole_number
from .schema import RETRY_AFTER, read_responses
from .serializers import (
    CertificationDetailSerializer,
    EnrollmentDetailSerializer,
    JurisdictionSerializer,
    ProgramSerializer,
    StatusChangeSerializer,
)
from .writes import (
    CertificationWriteMixin,
    EnrollmentWriteMixin,
    JurisdictionCreateMixin,
    StaffModelPermissions,
)

# --- Access --------------------------------------------------------------------------------------


class StaffWriteOrReadOnly(permissions.BasePermission):
    """Anyone reads; only staff accounts write (partner tokens belong to non-staff users)."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


# --- ViewSets ------------------------------------------------------------------------------------


class ApiViewSetMixin(ConditionalGetMixin):
    """What every API ViewSet shares. Read-only today; write mixins can be added per ViewSet."""

    # IsAuthenticatedOrReadOnly is implied by the second; it is listed so that the schema shows
    # that reading needs no token.
    permission_classes = [
        permissions.IsAuthenticatedOrReadOnly,
        StaffWriteOrReadOnly,
        StaffModelPermissions,
    ]

    def perform_content_negotiation(self, request, force=False):
        if not force and one_value(request, api_settings.URL_FORMAT_OVERRIDE) == "":
            # DRF would read an empty format= as none; the schema says it is one of a list.
            formats = ", ".join(r.format for r in self.get_renderers())
            raise ValidationError({"format": [f"An empty format; use one of: {formats}, or leave it out."]})
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:
            # DRF answers an unknown ?format= with a bare 404; name the parameter instead.
            wanted = request.query_params.get(api_settings.URL_FORMAT_OVERRIDE)
            if wanted is None:
                raise
            if getattr(self, request.method.lower(), None) is None:
                # A method the resource does not offer: its 405 (or the 401/403 of a client that
                # may not write at all) matters more than a format only the list offers.
                return super().perform_content_negotiation(request, force=True)
            formats = ", ".join(r.format for r in self.get_renderers())
            raise ValidationError(
                {"format": [f"“{wanted}” is not a format of this resource; use one of: {formats}."]}
            ) from None

    def filter_queryset(self, queryset):
        # Filters describe lists: one record is found by its key alone, without building and
        # validating a FilterSet (a fifth of a detail's time); `initial` refuses their parameters.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    # Parameters a single record understands besides the list's (JurisdictionViewSet: as_of).
    detail_params = frozenset()
    # The checked `as_of` day of this request (None: today's record), set by `initial`.
    as_of = None

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "as_of": self.as_of}

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if getattr(self, request.method.lower(), None) is None:
            return  # a method the resource does not offer: its 405 comes from dispatch
        if "as_of" in request.query_params and (self.detail_params or self.action == "list"):
            # The day whose record is shown (as_of.py), handed to the serializers in their context.
            try:
                raw = one_value(request, "as_of")
                day = as_of_day(raw) if raw else None
            except DjangoValidationError as exc:
                raise ValidationError({"as_of": exc.messages}) from None
            self.as_of = day
        if getattr(self, "filterset_class", None) is None or self.action != "list":
            # Without a FilterSet to report them (no FilterSet, or one record), unknown parameters
            # are refused here, so that a typo never passes unnoticed.
            unknown = sorted(set(request.query_params) - NON_FILTER_PARAMS - self.detail_params)
            if unknown:
                known = ", ".join(sorted(NON_FILTER_PARAMS))
                raise ValidationError(
                    {name: [f"Unknown parameter “{name}”. Known parameters: {known}."] for name in unknown}
                )


@extend_schema_view(
    list=extend_schema(
        summary="List jurisdictions",
        description=(
            "Jurisdictions with their enrollments and answers, filtered and ordered by the same "
            "parameters as the public list. `format=csv` returns every matching row (no pages) "
            "in the importer's CSV format: one row per jurisdiction and program. `format=geojson` "
            "returns the same rows as an RFC 7946 FeatureCollection: one Feature per row, the CSV's "
            "columns as its properties (blank cells null) and the jurisdiction's location as a "
            "Point (longitude, latitude; null geometry when the location is not known)."
        ),
        parameters=[
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=["json", "csv", "geojson"],
                description="json (the default), csv or geojson: the filtered list as CSV or as a "
                "GeoJSON FeatureCollection, not paginated.",
            ),
            RETRY_AFTER,
        ],
        responses={
            **read_responses(
                JurisdictionSerializer(many=True),
                "A page of matching jurisdictions (JSON), or all of them as CSV with format=csv.",
                not_found="The page does not exist.",
            ),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="The filtered list in the importer's CSV columns, when format=csv.",
            ),
            (200, geojson.CONTENT_TYPE): OpenApiResponse(
                GEOJSON_SCHEMA,
                description="The filtered list as an RFC 7946 FeatureCollection, when format=geojson.",
            ),
        },
    ),
    retrieve=extend_schema(
        summary="One jurisdiction",
        parameters=[
            OpenApiParameter(
                "slug",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="The jurisdiction's slug, <name>-<state>, e.g. memphis-tn.",
            ),
            RETRY_AFTER,
        ],
        responses=read_responses(
            JurisdictionSerializer, "The jurisdiction.", not_found="No jurisdiction has this slug."
        ),
    ),
)
class JurisdictionViewSet(
    JurisdictionCreateMixin,
    CachedReadMixin,
    ApiViewSetMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Jurisdictions by slug, with their enrollments and certifications."""

    # The serializer reads enrollments and answers itself (representation.py), one query per page.
    queryset = Jurisdiction.objects.all()
    serializer_class = JurisdictionSerializer
    filterset_class = JurisdictionFilter
    lookup_field = "slug"
    detail_params = frozenset({"as_of"})
    # A page is read with what it shows: its jurisdictions, their enrollments, answers and
    # documents, and the count when not known yet (one statement on PostgreSQL).
    page_reader = staticmethod(rows.listed)

    def get_renderers(self):
        found = super().get_renderers()
        if self.action == "list":
            found += [CSVRenderer(), GeoJSONRenderer()]
        return found

    def list(self, request, *args, **kwargs):
        wanted = getattr(request.accepted_renderer, "format", None)
        if wanted == CSVRenderer.format:
            return self.csv_response(request)
        if wanted == GeoJSONRenderer.format:
            return self.geojson_response(request)
        return super().list(request, *args, **kwargs)

    def export_filterset(self, request):
        """The checked FilterSet of an export (CSV, GeoJSON): not paginated, but the page
        parameters are still checked as the schema types them."""
        filterset = checked(ApiFilterBackend().get_filterset(request, Jurisdiction.objects.all(), self))
        self.paginator.get_page_size(request)
        whole_number(request, self.paginator.page_query_param, 1)
        return filterset

    def csv_response(self, request):
        filterset = self.export_filterset(request)
        lines = csvio.iter_export_csv(filterset.qs, **filterset.export_scope())
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="jurisdictions.csv"'
        return response

    def geojson_response(self, request):
        filterset = self.export_filterset(request)
        pieces = geojson.iter_geojson(filterset.qs, **filterset.export_scope())
        response = StreamingHttpResponse(pieces, content_type=geojson.CONTENT_TYPE)
        response["Content-Disposition"] = 'attachment; filename="jurisdictions.geojson"'
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        renderer = getattr(request, "accepted_renderer", None)
        if isinstance(response, Response) and getattr(renderer, "format", None) in EXPORT_FORMATS:
            # Errors of a CSV request are still JSON, so that a client can read them.
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = request.accepted_renderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


def with_status_counts(programs):
    return programs.annotate(
        **{
            f"n_{status}": Count("enrollments", filter=Q(enrollments__status=status))
            for status in Enrollment.Status.values
        }
    )


@extend_schema_view(
    list=extend_schema(
        summary="List programs",
        parameters=[RETRY_AFTER],
        responses=read_responses(
            ProgramSerializer(many=True), "A page of programs.", not_found="The page does not exist."
        ),
    ),
    retrieve=extend_schema(
        summary="One program",
        parameters=[
            OpenApiParameter(
                "slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The program's slug, e.g. psp."
            ),
            RETRY_AFTER,
        ],
        responses=read_responses(ProgramSerializer, "The program.", not_found="No program has this slug."),
    ),
)
class ProgramViewSet(CachedReadMixin, ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Programs with their requirements and the number of enrollments in each status."""

    queryset = with_status_counts(
        Program.objects.select_related("source").prefetch_related("requirements")
    ).order_by("launched_on", "name", "pk")
    serializer_class = ProgramSerializer
    lookup_field = "slug"


@extend_schema_view(
    list=extend_schema(
        summary="Change feed",
        parameters=[RETRY_AFTER],
        description=(
            "Every change of an enrollment's status, newest first. To stay in sync, poll with "
            "`since` set to the changed_at of the newest change already seen."
        ),
        responses=read_responses(
            StatusChangeSerializer(many=True),
            "A page of status changes, newest first.",
            not_found="The page does not exist.",
        ),
    ),
)
class StatusChangeViewSet(CachedListMixin, ApiViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The change feed."""

    queryset = StatusChange.objects.select_related(
        "enrollment__jurisdiction", "enrollment__program", "source"
    ).order_by("-changed_at", "-id")
    serializer_class = StatusChangeSerializer
    filterset_class = StatusChangeFilter


@extend_schema_view(
    retrieve=extend_schema(
        summary="One enrollment",
        parameters=[RETRY_AFTER],
        responses=read_responses(
            EnrollmentDetailSerializer, "The enrollment.", not_found="No enrollment has this id."
        ),
    ),
)
class EnrollmentViewSet(
    EnrollmentWriteMixin,
    CachedRetrieveMixin,
    ApiViewSetMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """An enrollment, the resource staff write status changes to."""

    queryset = Enrollment.objects.all()  # the serializer reads the rest (representation.py)
    serializer_class = EnrollmentDetailSerializer


@extend_schema_view(
    retrieve=extend_schema(
        summary="One certification",
        parameters=[RETRY_AFTER],
        responses=read_responses(
            CertificationDetailSerializer, "The certification.", not_found="No certification has this id."
        ),
    ),
)
class CertificationViewSet(
    CertificationWriteMixin,
    CachedRetrieveMixin,
    ApiViewSetMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """A certification (one answer), the resource staff write answers to."""

    queryset = Certification.objects.all()  # the serializer reads the rest (representation.py)
    serializer_class = CertificationDetailSerializer
