"""The admin's CSV import pages: upload → the job's page (preview) → confirm → the job's result.

Each upload becomes an ImportJob (models/imports.py); services/imports.py previews and applies it
through the importer, in the request for a small file and in the worker for a large one. The job's
page shows the state and refreshes itself (a meta refresh, no JavaScript) while the worker runs.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from .. import services
from ..models import ImportJob
from ..services.imports import ImportJobError, import_job_confirm, import_job_create
from ..transfer.parse import MAX_FILE_BYTES

IMPORT_PERMISSIONS = [
    f"jurisdictions.{action}_{model}"
    for model in ("jurisdiction", "enrollment", "certification", "source")
    for action in ("add", "change")
]
# The importer's own cap: the file is kept in the database, not the session, and the worker reads it.
IMPORT_MAX_BYTES = MAX_FILE_BYTES
REFRESH_SECONDS = 2
RECENT_JOBS = 10


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"UTF-8 CSV in the importer's columns, at most {IMPORT_MAX_BYTES // 1024 // 1024} MB.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise ValidationError(
                f"The file is {upload.size // 1024} KB; the admin imports files up to "
                f"{IMPORT_MAX_BYTES // 1024 // 1024} MB (use the import_jurisdictions command for more)."
            )
        return upload


class ImportAdminMixin:
    """Mixed into JurisdictionAdmin: the import pages live under its URLs."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="jurisdictions_jurisdiction_import"),
            path(
                "import/<int:job_id>/",
                view(self.import_job_view),
                name="jurisdictions_jurisdiction_import_job",
            ),
            *super().get_urls(),
        ]

    def has_import_permission(self, request):
        return request.user.has_perms(IMPORT_PERMISSIONS)

    def changelist_view(self, request, extra_context=None):
        extra_context = {"can_import": self.has_import_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def _import_context(self, request, title):
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "max_mb": IMPORT_MAX_BYTES // 1024 // 1024,
            "may_admit": services.may_admit(request.user),
        }

    def import_view(self, request):
        """The upload form and the user's recent imports; a valid upload becomes a job."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            job = import_job_create(data=upload.read(), filename=upload.name, user=request.user)
            return redirect(job.get_absolute_url())
        context = self._import_context(request, "Import jurisdictions from CSV")
        context["form"] = form
        context["jobs"] = ImportJob.objects.filter(uploaded_by=request.user).defer("content")[:RECENT_JOBS]
        return TemplateResponse(request, "admin/jurisdictions/import.html", context)

    def import_job_view(self, request, job_id):
        """One import: its state, its preview or result; POST confirms it."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        # Someone else's file is not shown: its rows may be theirs to review.
        job = ImportJob.objects.filter(pk=job_id, uploaded_by=request.user).defer("content").first()
        if job is None:
            raise Http404("No such import of yours.")
        if request.method == "POST":
            try:
                job = import_job_confirm(
                    job=job, user=request.user, fingerprint=request.POST.get("fingerprint", "")
                )
            except ImportJobError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return redirect(job.get_absolute_url())
            if job.state == ImportJob.State.DONE:
                self.message_user(request, f"Imported {job.filename}: {job.summary()}.", messages.SUCCESS)
                return redirect("admin:jurisdictions_jurisdiction_changelist")
            return redirect(job.get_absolute_url())
        context = self._import_context(request, f"Import of {job.filename}")
        context.update(
            {
                "job": job,
                "refresh": REFRESH_SECONDS if job.running else None,
                "hidden_rows": (job.row_count or 0) - len(job.rows),
                "hidden_errors": job.error_count - len(job.errors),
            }
        )
        return TemplateResponse(request, "admin/jurisdictions/import_job.html", context)
