"""URLs of the partner API, included under /api/v1/ (the version is in the path)."""

from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from alerts.api import WebhookViewSet
from psp_tracker.problems import problem_response

from . import views as api

app_name = "api"


class AsciiIdRouter(DefaultRouter):
    """Numeric ids are ASCII digits only: DRF's default lookup (`[^/.]+`) let int() read full-width
    digits, so /enrollments/１２/ answered as id 12 (one resource, many URLs, each cached apart)."""

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        if getattr(viewset, "lookup_field", "pk") in ("pk", "id") and not hasattr(
            viewset, "lookup_value_regex"
        ):
            return f"(?P<{lookup_prefix}{getattr(viewset, 'lookup_url_kwarg', None) or 'pk'}>[0-9]+)"
        return super().get_lookup_regex(viewset, lookup_prefix)


def describe_id_parameters(result, generator, request, public):
    """Schema post-processing: the ASCII-digit id parameters above carry a pattern rather than the
    model field, so drf-spectacular leaves them undescribed; say what they are."""
    for route, operations in result.get("paths", {}).items():
        resource = route.rstrip("/").split("/")[-2].rstrip("s").replace("-", " ")
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if (
                    parameter["in"] == "path"
                    and parameter["name"] == "id"
                    and not parameter.get("description")
                ):
                    parameter["description"] = f"The {resource}'s id (ASCII digits)."
    return result


router = AsciiIdRouter()
# One way to ask for a format (?format=), so the schema lists each resource once.
router.include_format_suffixes = False
router.register("jurisdictions", api.JurisdictionViewSet, basename="jurisdiction")
router.register("programs", api.ProgramViewSet, basename="program")
router.register("status-changes", api.StatusChangeViewSet, basename="status-change")
router.register("enrollments", api.EnrollmentViewSet, basename="enrollment")
router.register("certifications", api.CertificationViewSet, basename="certification")
router.register("webhooks", WebhookViewSet, basename="webhook")  # issue 17: alerts/api.py


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any other path under the API is a 404 problem, like the API's own, whatever the method
    (csrf_exempt: a PATCH with a session cookie must learn that the path is wrong, not get a 403)."""
    return problem_response(404, f"No API resource at {request.path}.")


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
