from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "PSP Tracker staff"
admin.site.site_title = "PSP Tracker staff"
admin.site.index_title = "Programs, jurisdictions and certifications"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("jurisdictions.urls")),
]
