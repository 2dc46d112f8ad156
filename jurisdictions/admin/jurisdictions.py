"""Jurisdictions, and the CSV import page (upload, preview, confirm)."""

import base64
import hashlib
import secrets

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from .. import services
from ..forms import (
    IMPORT_MAX_BYTES,
    ImportUploadForm,
    JurisdictionForm,
)
from ..models import Enrollment, Jurisdiction
from ..transfer.importer import import_jurisdictions
from ..transfer.limits import WEB_MAX_ROWS
from .base import VIA, AuditedAdmin

IMPORT_SESSION_KEY = "jurisdictions_import"
IMPORT_PERMISSIONS = [
    f"jurisdictions.{action}_{model}"
    for model in ("jurisdiction", "enrollment", "certification", "source")
    for action in ("add", "change")
]


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
class JurisdictionAdmin(AuditedAdmin):
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

    # -- CSV import ----------------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="jurisdictions_jurisdiction_import",
            ),
            *super().get_urls(),
        ]

    def has_import_permission(self, request):
        return request.user.has_perms(IMPORT_PERMISSIONS)

    def changelist_view(self, request, extra_context=None):
        extra_context = {"can_import": self.has_import_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        """Upload → preview (nothing written) → confirm (written in one transaction, re-checked)."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Import jurisdictions from CSV",
            "opts": self.opts,
            "max_mb": IMPORT_MAX_BYTES // 1024 // 1024,
            "may_admit": services.may_admit(request.user),
        }
        form = ImportUploadForm()
        if request.method == "POST" and "confirm" in request.POST:
            stored = request.session.get(IMPORT_SESSION_KEY)
            if not stored or not secrets.compare_digest(stored["token"], request.POST.get("token", "")):
                self.message_user(
                    request,
                    "The uploaded file is no longer available (it expired, or another upload replaced "
                    "it). Nothing was imported; upload the file again.",
                    messages.ERROR,
                )
                return redirect("admin:jurisdictions_jurisdiction_import")
            data = base64.b64decode(stored["data"])
            preview = import_jurisdictions(
                data, filename=stored["name"], user=request.user, commit=False, max_rows=WEB_MAX_ROWS
            )
            if not preview.ok or _fingerprint(preview) != stored["fingerprint"]:
                stored["fingerprint"] = _fingerprint(preview)
                request.session[IMPORT_SESSION_KEY] = stored
                self.message_user(
                    request,
                    "The data changed since the preview was made; nothing was imported. Check the new "
                    "preview below and confirm again.",
                    messages.WARNING,
                )
                return TemplateResponse(
                    request,
                    "admin/jurisdictions/import.html",
                    {**context, "report": preview, "token": stored["token"], "filename": stored["name"]},
                )
            report = import_jurisdictions(
                data, filename=stored["name"], user=request.user, commit=True, max_rows=WEB_MAX_ROWS
            )
            if report.applied:
                del request.session[IMPORT_SESSION_KEY]
                self.message_user(
                    request, f"Imported {stored['name']}: {report.summary()}.", messages.SUCCESS
                )
                return redirect("admin:jurisdictions_jurisdiction_changelist")
            context.update({"report": report, "filename": stored["name"]})
            return TemplateResponse(request, "admin/jurisdictions/import.html", context)
        if request.method == "POST":
            form = ImportUploadForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                data = upload.read()
                report = import_jurisdictions(
                    data, filename=upload.name, user=request.user, commit=False, max_rows=WEB_MAX_ROWS
                )
                token = None
                if report.ok:
                    token = secrets.token_urlsafe(16)
                    request.session[IMPORT_SESSION_KEY] = {
                        "token": token,
                        "name": upload.name,
                        "data": base64.b64encode(data).decode("ascii"),
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "fingerprint": _fingerprint(report),
                    }
                else:
                    request.session.pop(IMPORT_SESSION_KEY, None)
                context.update({"report": report, "token": token, "filename": upload.name})
        context["form"] = form
        return TemplateResponse(request, "admin/jurisdictions/import.html", context)


def _fingerprint(report):
    """What a preview promised, to notice when the database moved between preview and confirm."""
    return [[r.line, r.slug, r.program, r.action, sorted(r.changes)] for r in report.rows]
