"""Enrollments: a jurisdiction in a program, its status and dates. The participating rule lives here,
in `Enrollment.participation_errors`; the answers it reads are `certifications.Certification`.
"""

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .base import (
    NOTES_MAX_LENGTH,
    TimeStampedModel,
    choice_constraint,
    history,
    notes_length_validator,
)
from .jurisdictions import Jurisdiction
from .programs import Program, Source

# certifications.py imports this module: Certification's ForeignKey names Enrollment, so Enrollment is
# created first (models register in that order, which is the order Django lists relations in, e.g.
# on the admin's delete page). Names of certifications.py are imported here where they are used.


class EnrollmentQuerySet(models.QuerySet):
    def participating(self):
        return self.filter(status=Enrollment.Status.PARTICIPATING)

    def with_answer_counts(self):
        """Annotate how many requirements are answered yes and how many the program has."""
        from .certifications import Certification

        return self.annotate(
            yes_count=Count(
                "certifications",
                filter=Q(certifications__answer=Certification.Answer.YES),
                distinct=True,
            ),
            requirement_count=Count("program__requirements", distinct=True),
        )

    def incomplete(self):
        """Enrollments with at least one requirement not answered yes."""
        return self.with_answer_counts().filter(yes_count__lt=models.F("requirement_count"))


class EnrollmentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    LETTER_SENT = "letter_sent", _("Letter sent")
    PARTICIPATING = "participating", _("Participating")


class EnrollmentSiteType(models.TextChoices):
    DIAGNOSTIC = "diagnostic", _("Diagnostic")
    OPERATIONS = "operations", _("Operations")


class Enrollment(TimeStampedModel):
    """A jurisdiction's place in one program."""

    Status = EnrollmentStatus

    SiteType = EnrollmentSiteType

    # No single-column indexes: the unique (jurisdiction, program) and (program, status) lead with them.
    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.CASCADE, related_name="enrollments", db_index=False
    )
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="enrollments", db_index=False)
    status = models.CharField(
        max_length=20,
        choices=Status.choices,
        default=Status.PENDING,
        help_text="Participating requires every requirement of the program answered yes.",
    )
    site_type = models.CharField(
        max_length=20,
        choices=SiteType.choices,
        blank=True,
        help_text="Kind of site, where the program has them (PSP: diagnostic or operations).",
    )
    letter_sent_on = models.DateField(
        null=True, blank=True, help_text="Date the program's letter was sent to the jurisdiction."
    )
    response_due_on = models.DateField(
        null=True, blank=True, help_text="Date by which the letter asked for a response."
    )
    joined_on = models.DateField(null=True, blank=True, help_text="Date the jurisdiction joined the program.")
    notes = models.TextField(
        blank=True,
        max_length=NOTES_MAX_LENGTH,
        validators=[notes_length_validator],
        help_text="Notes on the enrollment, in plain text (at most 10,000 characters).",
    )
    source = models.ForeignKey(
        Source,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enrollments",
        help_text="The document that reports the current status (empty: no source recorded).",
    )
    site_type_source = models.ForeignKey(
        Source,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="site_type_enrollments",
        help_text="The document that gives the site type.",
    )
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Raised by every write; guards against lost updates."
    )

    objects = EnrollmentQuerySet.as_manager()
    history = history(unindexed=["program", "source", "site_type_source"])

    class Meta:
        ordering = ["program", "jurisdiction__name"]
        permissions = [
            ("admit_enrollment", "Can set an enrollment's status to participating (reviewers)"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "program"], name="jurisdictions_enrollment_unique"
            ),
            choice_constraint("status", EnrollmentStatus),
            choice_constraint("site_type", EnrollmentSiteType, allow_blank=True),
            models.CheckConstraint(
                condition=Q(response_due_on__isnull=True)
                | Q(letter_sent_on__isnull=True)
                | Q(response_due_on__gte=models.F("letter_sent_on")),
                name="jurisdictions_enrollment_due_after_letter",
            ),
        ]
        indexes = [
            # The list's status and program filters.
            models.Index(fields=["program", "status"], name="enrollment_program_status_idx"),
            models.Index(fields=["status"], name="enrollment_status_idx"),
        ]

    def __str__(self):
        return f"{self.jurisdiction} in {self.program.slug}"

    def answers(self):
        """{requirement_id: answer} for the stored answers."""
        return {c.requirement_id: c.answer for c in self.certifications.all()}

    def unmet_requirements(self, answers: Mapping[int, str] | None = None):
        """Requirements of the program not answered yes.

        `answers` ({requirement_id: answer}) overrides stored answers, so a form or a CSV row can be
        checked before anything is saved.
        """
        from .certifications import Certification

        current = self.answers() if self.pk else {}
        current.update(answers or {})
        return [r for r in self.program.requirements.all() if current.get(r.pk) != Certification.Answer.YES]

    @classmethod
    def unmet_of(cls, *, status, requirements, answers):
        """The requirements that stop `status`: for participating, those not answered yes
        (`answers` maps requirement id to answer); none for any other status."""
        from .certifications import Certification

        if status != cls.Status.PARTICIPATING:
            return []
        return [r for r in requirements if answers.get(r.pk) != Certification.Answer.YES]

    @classmethod
    def participation_errors(cls, *, status, requirements, answers):
        """THE participating rule, written once: the admin, the API and the importer all call it.

        `requirements` are the program's requirements, `answers` maps requirement id to answer.
        Returns a list of messages, empty when the enrollment may have `status`. The message names
        the requirements by their titles (what staff read on the form); the field it belongs to
        (`status`) is the machine-readable part.
        """
        unmet = cls.unmet_of(status=status, requirements=requirements, answers=answers)
        if not unmet:
            return []
        titles = ", ".join(f"“{r.title}”" for r in unmet)
        return [
            ngettext(
                "Status cannot be participating until every requirement is answered yes; "
                "%(count)d requirement is not yet: %(titles)s.",
                "Status cannot be participating until every requirement is answered yes; "
                "%(count)d requirements are not yet: %(titles)s.",
                len(unmet),
            )
            % {"count": len(unmet), "titles": titles}
        ]

    def rule_errors(self, *, status=None, answers=None):
        """The rule applied to this enrollment, with optional unsaved status and answers."""
        current = self.answers() if self.pk else {}
        current.update(answers or {})
        return self.participation_errors(
            status=status or self.status,
            requirements=self.program.requirements.all(),
            answers=current,
        )

    def check_rule(self, *, status=None, answers=None):
        errors = self.rule_errors(status=status, answers=answers)
        if errors:
            raise ValidationError({"status": errors})

    @classmethod
    def effective_on(cls, status, *, letter_sent_on, joined_on):
        """Date a status took effect, from the enrollment's own dates (None for pending)."""
        if status == EnrollmentStatus.PARTICIPATING:
            return joined_on
        if status == EnrollmentStatus.LETTER_SENT:
            return letter_sent_on
        return None

    @property
    def answers_summary(self):
        """The answers' count and basis in words (see `answers_summary`)."""
        from .certifications import answers_summary

        return answers_summary(
            [(c.answer, c.basis) for c in self.certifications.all()],
            of=len(self.certifications.all()),
            kind=self.jurisdiction.kind,
        )

    def no_response_by(self, today=None):
        """The due date when a letter's deadline has passed with no other status recorded (derived
        from the dates, never stored as a status), else None."""
        today = today or timezone.localdate()
        if (
            self.status == EnrollmentStatus.LETTER_SENT
            and self.response_due_on
            and self.response_due_on < today
        ):
            return self.response_due_on
        return None

    @property
    def status_since(self):
        """Date the current status took effect, from the enrollment's own dates."""
        # Named through the class: light row objects borrow this property (API rows, the importer).
        return Enrollment.effective_on(
            self.status, letter_sent_on=self.letter_sent_on, joined_on=self.joined_on
        )
