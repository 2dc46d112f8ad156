"""An admin CSV import as a job: the uploaded file, kept in the database so that the web server and
the worker (separate containers) read the same bytes, and what its preview and apply found.

The job only records; deciding and writing stay in `transfer.importer` (jurisdictions/imports.py
runs it). States: queued → previewing → previewed → (confirmed) applying → done, or failed.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse

from .base import TimeStampedModel, choice_constraint


class ImportJobState(models.TextChoices):
    QUEUED = "queued", "Queued for preview"
    PREVIEWING = "previewing", "Previewing"
    PREVIEWED = "previewed", "Previewed: waiting for confirmation"
    APPLYING = "applying", "Applying"
    DONE = "done", "Done"
    FAILED = "failed", "Failed: nothing written"


class ImportJob(TimeStampedModel):
    State = ImportJobState
    RUNNING = (State.QUEUED, State.PREVIEWING, State.APPLYING)

    filename = models.CharField(max_length=255)
    content = models.BinaryField(help_text="The uploaded file's bytes (the worker reads them here).")
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Whose roles the import is checked against and whom its history names.",
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    in_worker = models.BooleanField(
        default=False, help_text="Run by the worker (a large file) rather than in the request."
    )
    row_count = models.PositiveIntegerField(null=True, blank=True, help_text="Rows read by the preview.")
    counts = models.JSONField(default=dict, blank=True, help_text="new, changed and unchanged rows.")
    rows = models.JSONField(
        default=list,
        blank=True,
        help_text="The first rows of the preview: [line, slug, program, action, changes].",
    )
    fingerprint = models.CharField(
        max_length=64, blank=True, help_text="What the preview promised; a confirm checks it again."
    )
    errors = models.JSONField(
        default=list, blank=True, help_text="The first errors: [line, column, message]."
    )
    error_count = models.PositiveIntegerField(default=0)
    notice = models.CharField(max_length=500, blank=True, help_text="Why the job went back to preview.")
    preview_started_at = models.DateTimeField(null=True, blank=True)
    previewed_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    apply_started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [choice_constraint("state", ImportJobState)]
        # The import page lists the user's recent jobs; the retention sweep finds old finished ones.
        indexes = [models.Index(fields=["uploaded_by", "-created_at"], name="importjob_recent_idx")]

    def __str__(self):
        return f"import #{self.pk} {self.filename}"

    def get_absolute_url(self):
        return reverse("admin:jurisdictions_jurisdiction_import_job", args=[self.pk])

    @property
    def running(self):
        return self.state in self.RUNNING

    def summary(self):
        c = self.counts or {}
        return f"{c.get('new', 0)} new, {c.get('changed', 0)} changed, {c.get('unchanged', 0)} unchanged"
