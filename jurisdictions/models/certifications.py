"""A jurisdiction's answers to its program's requirements (Certification), what an answer and its
basis can be, and the answers' summary in words (`answers_summary`).
"""

import functools

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language, gettext, gettext_lazy, ngettext
from django.utils.translation import gettext_lazy as _

from .base import TimeStampedModel, choice_constraint, history, web_url_validator
from .enrollments import Enrollment
from .programs import Requirement, Source


class CertificationAnswer(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    NOT_APPLICABLE = "not_applicable", _("Not applicable (does not run the facility)")
    UNKNOWN = "unknown", _("Unknown")


class CertificationLegalBasis(models.TextChoices):
    STATUTE = "statute", _("Statute")
    REGULATION = "regulation", _("Regulation")
    POLICY = "policy", _("Policy")


class CertificationBasis(models.TextChoices):
    """On what the answer rests: the jurisdiction's own certification, or a third party's report."""

    CERTIFIED = "certified", _("Certified by the jurisdiction")
    REPORTED = "reported", _("Reported by a third party (not certified by the jurisdiction)")


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


def answers_summary(answers, *, of, kind="jurisdiction", language=None):
    """How many requirements are met and on what basis, in the words pages and the API use:
    "3 of 3 certified", "3 of 3 reported as met (not certified by the city)".

    `answers` are (answer, basis) pairs; `of` is the number of requirements; `kind` names the
    jurisdiction ("city", "county"); `language` is the active one unless given (a page of
    summaries asks for it once).
    """
    yes = [basis for answer, basis in answers if answer == CertificationAnswer.YES]
    certified = yes.count(CertificationBasis.CERTIFIED)
    reported = yes.count(CertificationBasis.REPORTED)
    unbased = len(yes) - certified - reported
    return _summary_words(certified, reported, unbased, of, kind, language or get_language())


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
