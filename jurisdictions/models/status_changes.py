"""The timeline of an enrollment: one StatusChange per change of status, corrections included."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .base import choice_constraint
from .enrollments import Enrollment, EnrollmentStatus
from .programs import Source


class StatusChangeQuerySet(models.QuerySet):
    def events(self):
        """The timeline's events: corrections are shown on the record they correct, not as events."""
        return self.filter(correction_of__isnull=True)

    def corrections(self):
        return self.filter(correction_of__isnull=False)


class ChangeVia(models.TextChoices):
    ADMIN = "admin", _("Admin")
    API = "api", "API"
    IMPORT = "import", _("Import")
    SYSTEM = "system", _("System")


class StatusChange(models.Model):
    """One step in an enrollment's history: the timeline and the change feed read these."""

    Via = ChangeVia

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(
        max_length=20,
        choices=Enrollment.Status.choices,
        blank=True,
        help_text="Empty when the enrollment was created.",
    )
    to_status = models.CharField(max_length=20, choices=Enrollment.Status.choices)
    changed_at = models.DateTimeField(
        default=timezone.now, help_text="When the change was recorded in the tracker."
    )
    effective_on = models.DateField(
        null=True, blank=True, help_text="Date the status took effect, according to the source."
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.SYSTEM)
    note = models.TextField(blank=True)
    source = models.ForeignKey(
        Source,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="status_changes",
        help_text="The document that reports this change; empty means no source recorded.",
    )
    correction_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
        help_text="The earlier record this one corrects: a correction is not a new event.",
    )
    correction_reason = models.TextField(
        blank=True, max_length=2000, help_text="Why the earlier record was wrong (shown publicly)."
    )

    objects = StatusChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-changed_at", "-id"]
        get_latest_by = "changed_at"
        constraints = [
            choice_constraint("from_status", EnrollmentStatus, allow_blank=True),
            choice_constraint("to_status", EnrollmentStatus),
            choice_constraint("via", ChangeVia),
            models.CheckConstraint(
                condition=Q(correction_of__isnull=True) | ~Q(correction_reason=""),
                name="jurisdictions_statuschange_correction_has_reason",
                violation_error_message="A correction says why the earlier record was wrong.",
            ),
        ]
        indexes = [
            # The change feed's newest-first order and its `since` filter.
            models.Index(fields=["-changed_at", "-id"], name="statuschange_recent_idx"),
            # The footer's "facts as of" (the latest effective date of an event, or the latest
            # recording of an undated one) from the index's ends rather than a scan of every change
            # (context_processors.py).
            models.Index(
                fields=["effective_on", "changed_at"],
                condition=Q(correction_of__isnull=True),
                name="statuschange_effective_idx",
            ),
        ]

    def __str__(self):
        origin = self.get_from_status_display() or "new"
        return f"{self.enrollment}: {origin} → {self.get_to_status_display()}"
