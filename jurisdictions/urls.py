"""Public pages and feeds. The names are used by get_absolute_url() and the templates."""

from django.urls import path

from . import downloads, embeds, feeds, pages, record, views

app_name = "jurisdictions"

urlpatterns = [
    path("", views.home, name="home"),
    path("programs/", views.program_list, name="program-list"),
    path("programs/<slug:slug>/", views.program_detail, name="program-detail"),
    path("programs/<slug:slug>/feed/", feeds.ProgramStatusChangesFeed(), name="program-feed"),
    path(
        "programs/<slug:slug>/feed/atom/", feeds.atom(feeds.ProgramStatusChangesFeed)(), name="program-atom"
    ),
    path("jurisdictions/", views.jurisdiction_list, name="jurisdiction-list"),
    path("jurisdictions/geoid/<str:geoid>/", record.jurisdiction_by_geoid, name="jurisdiction-by-geoid"),
    path("jurisdictions/ocd/<path:ocd_id>/", record.jurisdiction_by_ocd_id, name="jurisdiction-by-ocd-id"),
    # Before the detail, so that "feed" is not read as a jurisdiction's slug.
    path("jurisdictions/feed/", feeds.FilteredStatusChangesFeed(), name="list-feed"),
    path("jurisdictions/feed/atom/", feeds.atom(feeds.FilteredStatusChangesFeed)(), name="list-atom"),
    path("jurisdictions/<slug:slug>/", record.jurisdiction_detail, name="jurisdiction-detail"),
    path("jurisdictions/<slug:slug>/feed/", feeds.JurisdictionStatusChangesFeed(), name="jurisdiction-feed"),
    path(
        "jurisdictions/<slug:slug>/feed/atom/",
        feeds.atom(feeds.JurisdictionStatusChangesFeed)(),
        name="jurisdiction-atom",
    ),
    path("feeds/changes/", feeds.StatusChangesFeed(), name="changes-feed"),
    path("downloads/", downloads.downloads_page, name="downloads"),
    path("downloads/datapackage.json", downloads.package_json, name="datapackage"),
    path("downloads/<slug:name>.csv", downloads.table_csv, name="download-table"),
    path("data/", downloads.codebook, name="codebook"),
    path("feeds/changes/atom/", feeds.atom(feeds.StatusChangesFeed)(), name="changes-atom"),
    path("jurisdictions/<slug:slug>/report/", pages.report_error, name="report-error"),
    path("sources/<int:pk>/", pages.source_detail, name="source-detail"),
    path("corrections/", pages.corrections, name="corrections"),
    path("corrections/feed/", feeds.CorrectionsFeed(), name="corrections-feed"),
    path("methodology/", pages.methodology, name="methodology"),
    # Issue 19: status cards that any site may frame (jurisdictions/embeds.py, docs/embeds.md).
    path("embed/jurisdictions/<slug:slug>/", embeds.jurisdiction_embed, name="jurisdiction-embed"),
    path("embed/programs/<slug:slug>/", embeds.program_embed, name="program-embed"),
]
