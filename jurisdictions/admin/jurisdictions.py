"""Jurisdictions; their CSV import pages are `imports.ImportAdminMixin`."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from .. import services
from ..forms import JurisdictionForm
from ..models import Enrollment, Jurisdiction
from .base import VIA, AuditedAdmin
from .imports import ImportAdminMixin


class EnrollmentLinkInline(admin.TabularInline):
    """An overview on the jurisdiction's page; status is changed on the enrollment's own page."""

    model = Enrollment
    extra = 0
    fields = ["program", "status", "site_type", "joined_on", "edit_link"]
    readonly_fields = fields
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="")
    def edit_link(self, obj):
        url = reverse("admin:jurisdictions_enrollment_change", args=[obj.pk])
        return format_html('<a href="{}">Edit status and answers</a>', url)


@admin.register(Jurisdiction)
class JurisdictionAdmin(ImportAdminMixin, AuditedAdmin):
    form = JurisdictionForm
    list_display = ["name", "state", "kind", "slug", "geoid"]
    list_filter = ["state", "kind", "enrollments__program", "enrollments__status"]
    search_fields = ["name", "slug", "geoid"]
    prepopulated_fields = {"slug": ["name", "state"]}
    fields = [
        "place",
        "name",
        "state",
        "kind",
        "slug",
        "geoid",
        "ocd_id",
        "latitude",
        "longitude",
        "opened_version",
    ]
    # Reference places by name and state (geography's PlaceAdmin.search_fields).
    autocomplete_fields = ["place"]
    inlines = [EnrollmentLinkInline]

    def get_search_results(self, request, queryset, search_term):
        # Joining enrollments for the status filter can repeat rows.
        queryset, _ = super().get_search_results(request, queryset, search_term)
        return queryset, True

    def save_model(self, request, obj, form, change):
        values = {f: form.cleaned_data[f] for f in services.JURISDICTION_FIELDS if f in form.cleaned_data}
        if change:
            services.jurisdiction_update(
                jurisdiction=obj,
                user=request.user,
                via=VIA,
                expected_version=form.cleaned_data["opened_version"],
                **values,
            )
        else:
            created = services.jurisdiction_create(user=request.user, via=VIA, **values)
            obj.pk, obj.version, obj._state.adding = created.pk, created.version, False
