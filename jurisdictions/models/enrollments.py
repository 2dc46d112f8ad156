"""Enrollments (a jurisdiction in a program), their answers to the program's requirements, and
the timeline of status changes. The participating rule lives here, in `Enrollment.participation_errors`.
"""

import functools
from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import get_language, gettext, gettext_lazy, ngettext
from django.utils.translation import gettext_lazy as _

from .base import (
    NOTES_MAX_LENGTH,
    TimeStampedModel,
    choice_constraint,
    history,
    notes_length_validator,
    web_url_validator,
)
from .jurisdictions import Jurisdiction
from .programs import Program, Requirement, Source


class EnrollmentQuerySet(models.QuerySet):
    def participating(self):
        return self.filter(status=Enrollment.Status.PARTICIPATING)

    def with_answer_counts(self):
        """Annotate how many requirements are answered yes and how many the program has."""
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
        current = self.answers() if self.pk else {}
        current.update(answers or {})
        return [r for r in self.program.requirements.all() if current.get(r.pk) != Certification.Answer.YES]

    @classmethod
    def unmet_of(cls, *, status, requirements, answers):
        """The requirements that stop `status`: for participating, those not answered yes
        (`answers` maps requirement id to answer); none for any other status."""
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


class CertificationAnswer(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    NOT_APPLICABLE = "not_applicable", _("Not applicable (does not run the facility)")
    UNKNOWN = "unknown", _("Unknown")


class CertificationLegalBasis(models.TextChoices):
    STATUTE = "statute", _("Statute")
    REGULATION = "regulation", _("Regulation")
    POLICY = "policy", _("Policy")


NOT_CERTIFIED_BY = {
    "city": gettext_lazy("not certified by the city"),
    "county": gettext_lazy("not certified by the county"),
    "state": gettext_lazy("not certified by the state"),
    "territory": gettext_lazy("not certified by the territory"),
    "jurisdiction": gettext_lazy("not certified by the jurisdiction"),
}


def _not_certified_by(kind):
    words = NOT_CERTIFIED_BY.get(kind)
    return str(words) if words else gettext("not certified by the %(kind)s") % {"kind": kind}


def answers_summary(answers, *, of, kind="jurisdiction"):
    """How many requirements are met and on what basis, in the words pages and the API use:
    "3 of 3 certified", "3 of 3 reported as met (not certified by the city)".

    `answers` are (answer, basis) pairs; `of` is the number of requirements; `kind` names the
    jurisdiction ("city", "county").
    """
    yes = [basis for answer, basis in answers if answer == CertificationAnswer.YES]
    certified = yes.count(CertificationBasis.CERTIFIED)
    reported = yes.count(CertificationBasis.REPORTED)
    return _summary_words(certified, reported, len(yes) - certified - reported, of, kind, get_language())


@functools.lru_cache(maxsize=1024)
def _summary_words(certified, reported, unbased, of, kind, language):
    """The words of `answers_summary` for these counts in the active `language` (part of the key:
    the same counts read differently in Spanish). A list page words one per enrollment, from a
    handful of distinct counts; the words themselves only change with a new catalogue (a deploy)."""
    # Translated (issue 19); the API asks in English, so its words stay the same.
    parts = []
    if certified:
        parts.append(
            ngettext("%(n)d of %(of)d certified", "%(n)d of %(of)d certified", certified)
            % {"n": certified, "of": of}
        )
    if reported:
        parts.append(
            ngettext(
                "%(n)d of %(of)d reported as met (%(not_certified)s)",
                "%(n)d of %(of)d reported as met (%(not_certified)s)",
                reported,
            )
            % {"n": reported, "of": of, "not_certified": _not_certified_by(kind)}
        )
    if unbased:
        parts.append(
            ngettext(
                "%(n)d of %(of)d answered yes (basis not recorded)",
                "%(n)d of %(of)d answered yes (basis not recorded)",
                unbased,
            )
            % {"n": unbased, "of": of}
        )
    return "; ".join(parts) or gettext("0 of %(of)d met") % {"of": of}


class CertificationBasis(models.TextChoices):
    """On what the answer rests: the jurisdiction's own certification, or a third party's report."""

    CERTIFIED = "certified", _("Certified by the jurisdiction")
    REPORTED = "reported", _("Reported by a third party (not certified by the jurisdiction)")


class Certification(TimeStampedModel):
    """A jurisdiction's answer to one requirement of a program it is enrolled in."""

    Answer = CertificationAnswer

    LegalBasis = CertificationLegalBasis

    Basis = CertificationBasis

    # No single-column indexes: the unique (enrollment, requirement) and (requirement, answer) lead with them.
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="certifications", db_index=False
    )
    requirement = models.ForeignKey(
        Requirement, on_delete=models.PROTECT, related_name="certifications", db_index=False
    )
    answer = models.CharField(max_length=20, choices=Answer.choices, default=Answer.UNKNOWN)
    basis = models.CharField(
        max_length=20,
        choices=Basis.choices,
        blank=True,
        help_text="certified: the jurisdiction's own statement (who certified, when, the document); "
        "reported: a third party says so (the document); empty: no basis recorded yet.",
    )
    facility_operator = models.CharField(
        max_length=200,
        blank=True,
        help_text="Who runs the facility when the jurisdiction does not (e.g. the county sheriff).",
    )
    legal_basis = models.CharField(
        max_length=20,
        choices=LegalBasis.choices,
        blank=True,
        help_text="Kind of instrument the certification rests on.",
    )
    citation = models.CharField(
        max_length=300, blank=True, help_text="Citation of the statute, regulation or policy."
    )
    evidence_url = models.URLField(
        max_length=500,
        blank=True,
        verbose_name="evidence URL",
        validators=[web_url_validator],
        help_text="Link to the evidence (http:// or https://).",
    )
    certified_by = models.CharField(
        max_length=200, blank=True, help_text="Name and title of the official who certified."
    )
    certified_on = models.DateField(null=True, blank=True, help_text="Date of the certification.")
    # Rarely set: a partial index (below) serves the PROTECT check without indexing every NULL.
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.PROTECT, related_name="certifications", db_index=False
    )
    second_source = models.ForeignKey(
        Source,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="second_certifications",
        db_index=False,
        help_text="A second document that says the same (e.g. a second report of it).",
    )
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Raised by every write; guards against lost updates."
    )

    history = history(unindexed=["requirement", "source", "second_source"])

    class Meta:
        ordering = ["enrollment", "requirement__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "requirement"], name="jurisdictions_certification_unique"
            ),
            choice_constraint("answer", CertificationAnswer),
            choice_constraint("legal_basis", CertificationLegalBasis, allow_blank=True),
            choice_constraint("basis", CertificationBasis, allow_blank=True),
            models.CheckConstraint(
                condition=~Q(answer="not_applicable") | ~Q(facility_operator=""),
                name="jurisdictions_certification_na_names_operator",
                violation_error_message=("Name who runs the facility when the answer is not applicable."),
            ),
        ]
        indexes = [
            # The list's "answer to a requirement" filter.
            models.Index(fields=["requirement", "answer"], name="certification_req_answer_idx"),
            models.Index(
                fields=["source"], condition=Q(source__isnull=False), name="certification_source_idx"
            ),
            # The PROTECT check of a second document, and its source page.
            models.Index(
                fields=["second_source"],
                condition=Q(second_source__isnull=False),
                name="certification_source2_idx",
            ),
        ]

    def __str__(self):
        # Staff read the requirement's title (the admin's answer rows are headed by this).
        return f"{self.enrollment}: {self.requirement.title}: {self.get_answer_display()}"

    @property
    def effective_on(self):
        """Date from which the answer stood, by its documents: the certification's date, else the
        date of the document it cites (None when neither is known)."""
        if self.certified_on:
            return self.certified_on
        return self.source.published_on if self.source_id else None

    def clean(self):
        if (
            self.requirement_id
            and self.enrollment_id
            and self.requirement.program_id != self.enrollment.program_id
        ):
            raise ValidationError(
                {"requirement": "This requirement belongs to another program than the enrollment."}
            )


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
