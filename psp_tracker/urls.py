from django.conf.urls.i18n import i18n_patterns
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
]

# Issue 19: the public pages, their feeds and the e-mail alert pages in English at their current
# addresses and in Spanish under /es/. The API, the admin and the health checks stay unprefixed and
# English (LocaleMiddleware then activates LANGUAGE_CODE, whatever Accept-Language says).
urlpatterns += i18n_patterns(
    path("alerts/", include("alerts.urls")),  # issue 17: e-mail alert pages
    path("", include("jurisdictions.urls")),
    prefix_default_language=False,
)

# Our error pages (templates/<code>.html, or JSON under /api/); see psp_tracker/errors.py.
handler400 = "psp_tracker.errors.bad_request"
handler403 = "psp_tracker.errors.permission_denied"
handler404 = "psp_tracker.errors.page_not_found"
handler500 = "psp_tracker.errors.server_error"
