from django.contrib import admin
from django.urls import include, path

from psp_tracker import health

admin.site.site_header = "PSP Tracker staff"
admin.site.site_title = "PSP Tracker staff"
admin.site.index_title = "Programs, jurisdictions and certifications"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("jurisdictions.api.urls")),
    path("alerts/", include("alerts.urls")),  # issue 17: e-mail alert pages
    path("", include("jurisdictions.urls")),
]

# Our error pages (templates/<code>.html, or JSON under /api/); see psp_tracker/errors.py.
handler400 = "psp_tracker.errors.bad_request"
handler403 = "psp_tracker.errors.permission_denied"
handler404 = "psp_tracker.errors.page_not_found"
handler500 = "psp_tracker.errors.server_error"
