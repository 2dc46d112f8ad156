"""Public pages. The public-site issue fills these in; the names are used by get_absolute_url()."""

from django.urls import path

from . import views

app_name = "jurisdictions"

urlpatterns = [
    path("", views.home, name="home"),
    path("programs/<slug:slug>/", views.program_detail, name="program-detail"),
    path("jurisdictions/", views.jurisdiction_list, name="jurisdiction-list"),
    path("jurisdictions/<slug:slug>/", views.jurisdiction_detail, name="jurisdiction-detail"),
]
