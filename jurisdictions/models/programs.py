"""Programs, their requirements, and the sources that facts cite."""

from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .base import TimeStampedModel, choice_constraint, history, web_url_validator


class SourceKind(models.TextChoices):
    GOVERNMENT_DOCUMENT = "government_document", _("Government document")
    LETTER = "letter", _("Letter")
    NEWS_REPORT = "news_report", _("News report")
    JURISDICTION_STATEMENT = "jurisdiction_statement", _("Statement by the jurisdiction")
    COURT_RECORD = "court_record", _("Court record")
    OTHER = "other", _("Other")


# Issue 19: the Spanish of a program's and a requirement's words, entered by staff. The English
# field stays the official wording (the API and CSV give only it); jurisdictions/translation.py picks
# the text of the page's language, falling back to the English.
SPANISH_HELP = (
    "Unofficial Spanish translation shown on the Spanish pages (/es/); blank: the English is shown."
)


QUOTE_MAX_LENGTH = 500


class Source(TimeStampedModel):
    """A document that a status or an answer cites."""

    Kind = SourceKind

    kind = models.CharField(
        max_length=30,
        choices=Kind.choices,
        default=Kind.OTHER,
        help_text="What kind of document this is (a news report reports; a letter or a government "
        "document is the act itself).",
    )
    title = models.CharField(max_length=300)
    publisher = models.CharField(max_length=200, blank=True)
    url = models.URLField(
        max_length=500,
        blank=True,
        verbose_name="URL",
        validators=[web_url_validator],
        help_text="Where the document was published; left empty when not verified (never guessed).",
    )
    published_on = models.DateField(
        null=True, blank=True, help_text="Date of publication of the document (empty when it has none)."
    )
    date_text = models.CharField(
        max_length=50,
        blank=True,
        verbose_name="date as given",
        help_text="The date as the document gives it when it has no exact day (e.g. September 2018); "
        "never a guessed day.",
    )
    archived_url = models.URLField(
        max_length=500,
        blank=True,
        verbose_name="archived copy URL",
        validators=[web_url_validator],
        help_text="A copy kept by an archive (e.g. the Wayback Machine), for when the original moves.",
    )
    quote = models.TextField(
        blank=True,
        max_length=QUOTE_MAX_LENGTH,
        validators=[MaxLengthValidator(QUOTE_MAX_LENGTH)],
        help_text=f"A short passage of the document that supports the facts citing it "
        f"(at most {QUOTE_MAX_LENGTH} characters; cite, do not copy).",
    )

    history = history()

    class Meta:
        ordering = ["-published_on", "title"]
        constraints = [
            # The importer finds a source by its title and URL.
            models.UniqueConstraint(fields=["title", "url"], name="jurisdictions_source_natural_key"),
            choice_constraint("kind", SourceKind),
        ]

    def __str__(self):
        when = f", {self.published_on:%Y-%m-%d}" if self.published_on else ""
        publisher = f" ({self.publisher}{when})" if self.publisher else (f" ({when[2:]})" if when else "")
        return f"{self.title}{publisher}"

    def get_absolute_url(self):
        return reverse("jurisdictions:source-detail", kwargs={"pk": self.pk})


class ProgramQuerySet(models.QuerySet):
    def with_overview(self):
        """Each program with `n_requirements`, `n_<status>` (enrollments in each status) and
        `last_change_at` (its latest status change), one query (the /programs/ page)."""
        from .enrollments import Enrollment, EnrollmentStatus  # they refer to programs
        from .status_changes import StatusChange

        # Subqueries rather than joins: joining requirements, enrollments and changes together
        # would count each enrollment once per requirement and change.

        def per_program(queryset, value):
            return Subquery(
                queryset.filter(program=OuterRef("pk"))
                .order_by()
                .values("program")
                .annotate(v=value)
                .values("v")[:1]
            )

        counts = {
            f"n_{status}": Coalesce(per_program(Enrollment.objects.filter(status=status), Count("id")), 0)
            for status in EnrollmentStatus.values
        }
        return self.annotate(
            n_requirements=Coalesce(per_program(Requirement.objects.all(), Count("id")), 0),
            last_change_at=Subquery(
                StatusChange.objects.filter(enrollment__program=OuterRef("pk"))
                .order_by("-changed_at")
                .values("changed_at")[:1]
            ),
            **counts,
        )


class Program(TimeStampedModel):
    """A federal partnership program whose participants certify a set of requirements."""

    objects = ProgramQuerySet.as_manager()

    slug = models.SlugField(max_length=50, unique=True, help_text="Stable short name, e.g. psp.")
    name = models.CharField(max_length=200)
    agency = models.CharField(
        max_length=200, help_text="The administering agency, e.g. U.S. Department of Justice."
    )
    launched_on = models.DateField(null=True, blank=True, help_text="Date the program launched.")
    description = models.TextField(blank=True, help_text="What the program is, in plain words.")
    name_es = models.CharField(
        max_length=200, blank=True, verbose_name="name (Spanish)", help_text=SPANISH_HELP
    )
    description_es = models.TextField(
        blank=True, verbose_name="description (Spanish)", help_text=SPANISH_HELP
    )
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.PROTECT, related_name="programs"
    )

    history = history()

    class Meta:
        ordering = ["launched_on", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("jurisdictions:program-detail", kwargs={"slug": self.slug})

    def status_counts(self):
        """Number of enrollments in each status, every status present (zero when none)."""
        from .enrollments import EnrollmentStatus  # enrollments refer to programs

        counts = dict(self.enrollments.values_list("status").annotate(n=Count("id")).order_by())
        return {status: counts.get(status, 0) for status in EnrollmentStatus.values}


class Requirement(TimeStampedModel):
    """One condition of a program that a jurisdiction must certify."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="requirements")
    code = models.SlugField(
        max_length=50,
        help_text="Stable identifier used in CSV columns and the API, e.g. facility_access.",
    )
    title = models.CharField(max_length=200, help_text="Short title shown in lists.")
    text = models.TextField(help_text="The full wording of the requirement.")
    title_es = models.CharField(
        max_length=200, blank=True, verbose_name="title (Spanish)", help_text=SPANISH_HELP
    )
    text_es = models.TextField(blank=True, verbose_name="text (Spanish)", help_text=SPANISH_HELP)
    order = models.PositiveSmallIntegerField(default=0, help_text="Position in the program's list.")

    history = history()

    class Meta:
        ordering = ["program", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["program", "code"], name="jurisdictions_requirement_code_unique"),
        ]

    def __str__(self):
        return f"{self.program.slug}: {self.title}"
