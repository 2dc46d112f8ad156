"""URLs of the partner API, included under /api/v1/ (the version is in the path)."""

from django.http import JsonResponse
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from . import views as api

app_name = "api"

router = DefaultRouter()
# One way to ask for a format (?format=), so the schema lists each resource once.
router.include_format_suffixes = False
router.register("jurisdictions", api.JurisdictionViewSet, basename="jurisdiction")
router.register("programs", api.ProgramViewSet, basename="program")
router.register("status-changes", api.StatusChangeViewSet, basename="status-change")
router.register("enrollments", api.EnrollmentViewSet, basename="enrollment")
router.register("certifications", api.CertificationViewSet, basename="certification")


def not_found(request, *args, **kwargs):
    """Any other path under the API is a JSON 404, like the API's own."""
    return JsonResponse({"detail": "Not found."}, status=404)


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        # The split view loads its start-up script from a URL rather than inline, as the
        # Content-Security-Policy requires; the template has no inline style either.
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
    *router.urls,
    re_path(r"^.*$", not_found),
]
