"""Jurisdictions: the places that take part in programs."""

import us
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Max, Q
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from .base import State, TimeStampedModel, choice_constraint, geoid_validator, history, ocd_id_validator


class JurisdictionQuerySet(models.QuerySet):
    def with_enrollments(self):
        """Everything a list row or an API object shows, in a fixed number of queries."""
        from .certifications import Certification  # they refer to Jurisdiction
        from .enrollments import Enrollment

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


# Census GEOID lengths by kind: a state is its 2-digit FIPS code, a county 2 + 3 digits, a place
# (city, town) 2 + 5 digits. Other kinds (townships, districts) vary, so only their prefix is checked.
GEOID_LENGTHS = {"state": 2, "territory": 2, "county": 5, "city": 7}
# No state has this FIPS code: generate_jurisdictions marks its synthetic GEOIDs with it.
SYNTHETIC_GEOID_PREFIX = "99"
STATE_FIPS = {state.abbr: state.fips for state in us.states.STATES_AND_TERRITORIES}


def geoid_error(geoid, state, kind):
    """Why `geoid` cannot be the GEOID of a jurisdiction of this state and kind, or None.

    The one statement of the rule: `Jurisdiction.clean` (admin, API) and the importer apply it."""
    if not geoid or state not in STATE_FIPS or geoid.startswith(SYNTHETIC_GEOID_PREFIX):
        return None
    length = GEOID_LENGTHS.get(kind)
    if length and (len(geoid) != length or not geoid.isdigit()):
        return f"The GEOID of a {kind} has {length} digits (the state's 2 and the {kind}'s), e.g. " + (
            {2: "47", 5: "47157", 7: "4748000"}[length] + "."
        )
    if not geoid.startswith(STATE_FIPS[state]):
        return (
            f"A GEOID in {state} starts with its FIPS code {STATE_FIPS[state]}; “{geoid}” starts with "
            f"{geoid[:2]}."
        )
    return None


class JurisdictionKind(models.TextChoices):
    CITY = "city", _("City")
    COUNTY = "county", _("County")
    STATE = "state", _("State")
    TERRITORY = "territory", _("Territory")
    OTHER = "other", _("Other")


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
    place = models.ForeignKey(
        "geography.Place",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jurisdictions",
        verbose_name="reference place",
        help_text="The reference place (county or city) this jurisdiction is; fills state, kind and "
        "coordinates when it is created from one.",
    )
    latitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Raised by every write; guards against lost updates."
    )

    objects = JurisdictionQuerySet.as_manager()
    history = history(unindexed=["slug", "geoid", "place"])

    class Meta:
        ordering = ["name", "state"]
        constraints = [
            choice_constraint("state", State),
            choice_constraint("kind", JurisdictionKind),
            # An empty GEOID is stored as NULL so that uniqueness only binds real identifiers.
            models.CheckConstraint(condition=~Q(geoid=""), name="jurisdictions_jurisdiction_geoid_not_empty"),
            # A point has both coordinates or none (the map and GeoJSON need both).
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="jurisdictions_jurisdiction_point_complete",
            ),
        ]
        indexes = [
            # The list's state filter and its state ordering.
            models.Index(fields=["state", "name"], name="jurisdiction_state_name_idx"),
            # The map reads the located jurisdictions by name (map_marks.py): without it, every
            # uncached list page scanned all 90,000 rows for the few with a point (10 ms).
            models.Index(
                fields=["name", "state", "id"],
                condition=Q(latitude__isnull=False),
                name="jurisdiction_located_idx",
            ),
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
        errors = {}
        message = geoid_error(self.geoid, self.state, self.kind)
        if message:
            errors["geoid"] = message
        if (self.latitude is None) != (self.longitude is None):
            errors["longitude" if self.longitude is None else "latitude"] = (
                "Give both coordinates of the point, or neither."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def has_point(self):
        return self.latitude is not None and self.longitude is not None
