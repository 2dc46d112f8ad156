"""Error reports sent by the public: a staff queue, never published without a staff decision."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models

from .base import TimeStampedModel, choice_constraint
from .jurisdictions import Jurisdiction
from .status_changes import StatusChange

REPORT_MAX_LENGTH = 2000


class ErrorReportState(models.TextChoices):
    OPEN = "open", "Open (waiting for staff)"
    ACCEPTED = "accepted", "Accepted (became a correction)"
    DISMISSED = "dismissed", "Dismissed"


class ErrorReport(TimeStampedModel):
    """What a reader says is wrong on a jurisdiction's page. Private until staff act on it."""

    State = ErrorReportState

    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.CASCADE, related_name="error_reports")
    message = models.TextField(
        max_length=REPORT_MAX_LENGTH,
        validators=[MaxLengthValidator(REPORT_MAX_LENGTH)],
        help_text="What is wrong, in the reader's words (never published as sent).",
    )
    evidence_url = models.URLField(
        max_length=500, blank=True, verbose_name="document URL", help_text="A document that shows it."
    )
    contact = models.EmailField(blank=True, help_text="Optional: where staff may reply.")
    state = models.CharField(max_length=20, choices=State.choices, default=State.OPEN)
    decision_reason = models.TextField(
        blank=True, max_length=REPORT_MAX_LENGTH, help_text="Why staff accepted or dismissed it."
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    correction = models.ForeignKey(
        StatusChange,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="error_reports",
        help_text="The correction this report became.",
    )

    class Meta:
        ordering = ["state", "-created_at"]
        constraints = [choice_constraint("state", ErrorReportState)]
        indexes = [
            # The staff queue: open reports first.
            models.Index(fields=["state", "-created_at"], name="errorreport_queue_idx"),
        ]

    def __str__(self):
        return f"Report on {self.jurisdiction} ({self.get_state_display()})"
