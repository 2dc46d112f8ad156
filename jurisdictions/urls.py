"""Public pages and feeds. The names are used by get_absolute_url() and the templates."""

from django.urls import path

from . import feeds, views

app_name = "jurisdictions"

urlpatterns = [
    path("", views.home, name="home"),
    path("programs/<slug:slug>/", views.program_detail, name="program-detail"),
    path("programs/<slug:slug>/feed/", feeds.ProgramStatusChangesFeed(), name="program-feed"),
    path("jurisdictions/", views.jurisdiction_list, name="jurisdiction-list"),
    path("jurisdictions/<slug:slug>/", views.jurisdiction_detail, name="jurisdiction-detail"),
    path("jurisdictions/<slug:slug>/report/", views.report_error, name="report-error"),
    path("feeds/changes/", feeds.StatusChangesFeed(), name="changes-feed"),
    path("sources/<int:pk>/", views.source_detail, name="source-detail"),
    path("corrections/", views.corrections, name="corrections"),
    path("corrections/feed/", feeds.CorrectionsFeed(), name="corrections-feed"),
    path("methodology/", views.methodology, name="methodology"),
]
