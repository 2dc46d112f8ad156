"""Jurisdictions: the places that take part in programs."""

from django.db import models
from django.db.models import Max, Q
from django.urls import reverse
from django.utils.text import slugify

from .base import State, TimeStampedModel, choice_constraint, geoid_validator, history, ocd_id_validator


class JurisdictionQuerySet(models.QuerySet):
    def with_enrollments(self):
        """Everything a list row or an API object shows, in a fixed number of queries."""
        from .enrollments import Certification, Enrollment  # they refer to Jurisdiction

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
