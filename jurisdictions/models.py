"""The tracker's data: programs, their requirements, jurisdictions and their enrollments.

The one rule of the domain, "an enrollment is participating only when every requirement of its
program is answered yes", is `Enrollment.rule_errors()`; every door (admin, API, importer) calls it.
"""

from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import connections, models
from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from simple_history.models import HistoricalRecords

from .audit import AuditedHistory


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(
        auto_now=True, help_text="When this record last changed in the tracker."
    )

    class Meta:
        abstract = True


def where_in(queryset, column, values):
    """`queryset` narrowed to rows whose `column` is one of `values`.

    On PostgreSQL the values travel as one array parameter (`= ANY(%s)`): an `__in` lookup of
    thousands of values costs Django more to build than the query costs to run, and the SQL text
    stays the same whatever their number. Other databases get the `__in` lookup.
    """
    values = list(values)
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return queryset.filter(**{f"{column}__in": values})
    quote = connection.ops.quote_name
    where = f"{quote(queryset.model._meta.db_table)}.{quote(column)} = ANY(%s)"
    return queryset.extra(where=[where], params=[values])


def choice_constraint(field, choices, *, allow_blank=False):
    """A named CHECK constraint that keeps a choice column inside its TextChoices."""
    condition = Q(**{f"{field}__in": choices.values})
    if allow_blank:
        condition |= Q(**{field: ""})
    return models.CheckConstraint(condition=condition, name=f"%(app_label)s_%(class)s_{field}_valid")


def history(*, unindexed=()):
    """The audit trail. `unindexed` names copied columns no history query filters on: simple-history
    indexes every copied key, and each index is paid on every write (about 230,000 answers a file).

    The author column carries no database foreign key: the check it would run on every history
    row (about 400,000 for a national file) was a tenth of an import's time. Deleting a user
    through Django still clears it (SET_NULL is applied by Django's deletion collector).
    """
    return HistoricalRecords(
        bases=[AuditedHistory],
        cascade_delete_history=False,
        no_db_index=list(unindexed),
        user_db_constraint=False,
    )


class State(models.TextChoices):
    """USPS codes of the 50 states, the District of Columbia and the inhabited territories."""

    AL = "AL", "Alabama"
    AK = "AK", "Alaska"
    AZ = "AZ", "Arizona"
    AR = "AR", "Arkansas"
    CA = "CA", "California"
    CO = "CO", "Colorado"
    CT = "CT", "Connecticut"
    DE = "DE", "Delaware"
    DC = "DC", "District of Columbia"
    FL = "FL", "Florida"
    GA = "GA", "Georgia"
    HI = "HI", "Hawaii"
    ID = "ID", "Idaho"
    IL = "IL", "Illinois"
    IN = "IN", "Indiana"
    IA = "IA", "Iowa"
    KS = "KS", "Kansas"
    KY = "KY", "Kentucky"
    LA = "LA", "Louisiana"
    ME = "ME", "Maine"
    MD = "MD", "Maryland"
    MA = "MA", "Massachusetts"
    MI = "MI", "Michigan"
    MN = "MN", "Minnesota"
    MS = "MS", "Mississippi"
    MO = "MO", "Missouri"
    MT = "MT", "Montana"
    NE = "NE", "Nebraska"
    NV = "NV", "Nevada"
    NH = "NH", "New Hampshire"
    NJ = "NJ", "New Jersey"
    NM = "NM", "New Mexico"
    NY = "NY", "New York"
    NC = "NC", "North Carolina"
    ND = "ND", "North Dakota"
    OH = "OH", "Ohio"
    OK = "OK", "Oklahoma"
    OR = "OR", "Oregon"
    PA = "PA", "Pennsylvania"
    RI = "RI", "Rhode Island"
    SC = "SC", "South Carolina"
    SD = "SD", "South Dakota"
    TN = "TN", "Tennessee"
    TX = "TX", "Texas"
    UT = "UT", "Utah"
    VT = "VT", "Vermont"
    VA = "VA", "Virginia"
    WA = "WA", "Washington"
    WV = "WV", "West Virginia"
    WI = "WI", "Wisconsin"
    WY = "WY", "Wyoming"
    AS = "AS", "American Samoa"
    GU = "GU", "Guam"
    MP = "MP", "Northern Mariana Islands"
    PR = "PR", "Puerto Rico"
    VI = "VI", "U.S. Virgin Islands"


geoid_validator = RegexValidator(
    r"^[0-9]{2,15}$", "A Census GEOID is 2 to 15 digits (keep any leading zeros)."
)
ocd_id_validator = RegexValidator(
    r"^ocd-division/country:us(/[a-z_]+:[^/\s]+)*$",
    "An Open Civic Data division id looks like ocd-division/country:us/state:tn/place:memphis.",
)


class Source(TimeStampedModel):
    """A document that a status or an answer cites."""

    title = models.CharField(max_length=300)
    publisher = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=500, blank=True, verbose_name="URL")
    published_on = models.DateField(null=True, blank=True, help_text="Date of publication of the document.")

    history = history()

    class Meta:
        ordering = ["-published_on", "title"]
        constraints = [
            # The importer finds a source by its title and URL.
            models.UniqueConstraint(fields=["title", "url"], name="jurisdictions_source_natural_key"),
        ]

    def __str__(self):
        when = f", {self.published_on:%Y-%m-%d}" if self.published_on else ""
        publisher = f" ({self.publisher}{when})" if self.publisher else (f" ({when[2:]})" if when else "")
        return f"{self.title}{publisher}"


class Program(TimeStampedModel):
    """A federal partnership program whose participants certify a set of requirements."""

    slug = models.SlugField(max_length=50, unique=True, help_text="Stable short name, e.g. psp.")
    name = models.CharField(max_length=200)
    agency = models.CharField(
        max_length=200, help_text="The administering agency, e.g. U.S. Department of Justice."
    )
    launched_on = models.DateField(null=True, blank=True, help_text="Date the program launched.")
    description = models.TextField(blank=True, help_text="What the program is, in plain words.")
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
        counts = dict(self.enrollments.values_list("status").annotate(n=Count("id")).order_by())
        return {status: counts.get(status, 0) for status in Enrollment.Status.values}


class Requirement(TimeStampedModel):
    """One condition of a program that a jurisdiction must certify."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="requirements")
    code = models.SlugField(
        max_length=50,
        help_text="Stable identifier used in CSV columns and the API, e.g. facility_access.",
    )
    title = models.CharField(max_length=200, help_text="Short title shown in lists.")
    text = models.TextField(help_text="The full wording of the requirement.")
    order = models.PositiveSmallIntegerField(default=0, help_text="Position in the program's list.")

    history = history()

    class Meta:
        ordering = ["program", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["program", "code"], name="jurisdictions_requirement_code_unique"),
        ]

    def __str__(self):
        return f"{self.program.slug}: {self.title}"


class JurisdictionQuerySet(models.QuerySet):
    def with_enrollments(self):
        """Everything a list row or an API object shows, in a fixed number of queries."""
        return self.prefetch_related(
            models.Prefetch(
                "enrollments",
                queryset=Enrollment.objects.select_related("program", "source").prefetch_related(
                    models.Prefetch(
                        "certifications",
                        queryset=Certification.objects.select_related("requirement"),
                    )
                ),
            )
        )

    def with_last_change(self):
        return self.annotate(last_change_at=Max("enrollments__status_changes__changed_at"))


class JurisdictionKind(models.TextChoices):
    CITY = "city", "City"
    COUNTY = "county", "County"
    STATE = "state", "State"
    TERRITORY = "territory", "Territory"
    OTHER = "other", "Other"


class Jurisdiction(TimeStampedModel):
    Kind = JurisdictionKind

    name = models.CharField(max_length=200, help_text="Common name, without the state.")
    state = models.CharField(
        max_length=2, choices=State.choices, help_text="USPS code of the state or territory."
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CITY)
    slug = models.SlugField(
        max_length=220,
        unique=True,
        help_text="Stable identifier <name>-<state>, e.g. kansas-city-mo. Never reused.",
    )
    geoid = models.CharField(
        max_length=15,
        null=True,
        blank=True,
        unique=True,
        validators=[geoid_validator],
        verbose_name="Census GEOID",
        help_text="Census Bureau geographic identifier, as text so leading zeros are kept.",
    )
    ocd_id = models.CharField(
        max_length=300,
        blank=True,
        validators=[ocd_id_validator],
        verbose_name="OCD division id",
        help_text="Open Civic Data division identifier.",
    )
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Raised by every write; guards against lost updates."
    )

    objects = JurisdictionQuerySet.as_manager()
    history = history(unindexed=["slug", "geoid"])

    class Meta:
        ordering = ["name", "state"]
        constraints = [
            choice_constraint("state", State),
            choice_constraint("kind", JurisdictionKind),
            # An empty GEOID is stored as NULL so that uniqueness only binds real identifiers.
            models.CheckConstraint(condition=~Q(geoid=""), name="jurisdictions_jurisdiction_geoid_not_empty"),
        ]
        indexes = [
            # The list's state filter and its state ordering.
            models.Index(fields=["state", "name"], name="jurisdiction_state_name_idx"),
        ]

    def __str__(self):
        return f"{self.name}, {self.state}"

    def get_absolute_url(self):
        return reverse("jurisdictions:jurisdiction-detail", kwargs={"slug": self.slug})

    @staticmethod
    def make_slug(name, state):
        return slugify(f"{name} {state}")

    def clean(self):
        if self.geoid == "":
            self.geoid = None
        if not self.slug and self.name and self.state:
            self.slug = self.make_slug(self.name, self.state)


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
    PENDING = "pending", "Pending"
    LETTER_SENT = "letter_sent", "Letter sent"
    PARTICIPATING = "participating", "Participating"


class EnrollmentSiteType(models.TextChoices):
    DIAGNOSTIC = "diagnostic", "Diagnostic"
    OPERATIONS = "operations", "Operations"


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
    notes = models.TextField(blank=True)
    source = models.ForeignKey(
        Source,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enrollments",
        help_text="The document that reports the current status.",
    )
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Raised by every write; guards against lost updates."
    )

    objects = EnrollmentQuerySet.as_manager()
    history = history(unindexed=["program", "source"])

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
    def participation_errors(cls, *, status, requirements, answers):
        """THE participating rule, written once: the admin, the API and the importer all call it.

        `requirements` are the program's requirements, `answers` maps requirement id to answer.
        Returns a list of messages, empty when the enrollment may have `status`.
        """
        if status != cls.Status.PARTICIPATING:
            return []
        unmet = [r.code for r in requirements if answers.get(r.pk) != Certification.Answer.YES]
        if not unmet:
            return []
        return [
            "Status cannot be participating until every requirement is answered yes; "
            f"not yet: {', '.join(unmet)}."
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

    @property
    def status_since(self):
        """Date the current status took effect, from the enrollment's own dates."""
        if self.status == self.Status.PARTICIPATING:
            return self.joined_on
        if self.status == self.Status.LETTER_SENT:
            return self.letter_sent_on
        return None


class CertificationAnswer(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    NOT_APPLICABLE = "not_applicable", "Not applicable (does not run the facility)"
    UNKNOWN = "unknown", "Unknown"


class CertificationLegalBasis(models.TextChoices):
    STATUTE = "statute", "Statute"
    REGULATION = "regulation", "Regulation"
    POLICY = "policy", "Policy"


class Certification(TimeStampedModel):
    """A jurisdiction's answer to one requirement of a program it is enrolled in."""

    Answer = CertificationAnswer

    LegalBasis = CertificationLegalBasis

    # No single-column indexes: the unique (enrollment, requirement) and (requirement, answer) lead with them.
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="certifications", db_index=False
    )
    requirement = models.ForeignKey(
        Requirement, on_delete=models.PROTECT, related_name="certifications", db_index=False
    )
    answer = models.CharField(max_length=20, choices=Answer.choices, default=Answer.UNKNOWN)
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
        max_length=500, blank=True, verbose_name="evidence URL", help_text="Link to the evidence."
    )
    certified_by = models.CharField(
        max_length=200, blank=True, help_text="Name and title of the official who certified."
    )
    certified_on = models.DateField(null=True, blank=True, help_text="Date of the certification.")
    # Rarely set: a partial index (below) serves the PROTECT check without indexing every NULL.
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.PROTECT, related_name="certifications", db_index=False
    )
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Raised by every write; guards against lost updates."
    )

    history = history(unindexed=["requirement", "source"])

    class Meta:
        ordering = ["enrollment", "requirement__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "requirement"], name="jurisdictions_certification_unique"
            ),
            choice_constraint("answer", CertificationAnswer),
            choice_constraint("legal_basis", CertificationLegalBasis, allow_blank=True),
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
        ]

    def __str__(self):
        return f"{self.enrollment}: {self.requirement.code} = {self.answer}"

    def clean(self):
        if (
            self.requirement_id
            and self.enrollment_id
            and self.requirement.program_id != self.enrollment.program_id
        ):
            raise ValidationError(
                {"requirement": "This requirement belongs to another program than the enrollment."}
            )


class ChangeVia(models.TextChoices):
    ADMIN = "admin", "Admin"
    API = "api", "API"
    IMPORT = "import", "Import"
    SYSTEM = "system", "System"


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
        Source, null=True, blank=True, on_delete=models.PROTECT, related_name="status_changes"
    )

    class Meta:
        ordering = ["-changed_at", "-id"]
        get_latest_by = "changed_at"
        constraints = [
            choice_constraint("from_status", EnrollmentStatus, allow_blank=True),
            choice_constraint("to_status", EnrollmentStatus),
            choice_constraint("via", ChangeVia),
        ]
        indexes = [
            # The change feed's newest-first order and its `since` filter.
            models.Index(fields=["-changed_at", "-id"], name="statuschange_recent_idx"),
        ]

    def __str__(self):
        origin = self.get_from_status_display() or "new"
        return f"{self.enrollment}: {origin} → {self.get_to_status_display()}"


# The data version row that keys the response cache (issue 13); its own module, loaded with the models.
from .versioning import DataVersion  # noqa: E402, F401
