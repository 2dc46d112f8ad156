"""Reference geography: the states, counties and places of the United States as published by
maintained packages (loaded by `manage.py load_geography`, see geography/loader.py).

Reference places are not tracked jurisdictions: they are what staff pick from when they add a
jurisdiction (which then carries the place's state, kind and coordinates), and what
`generate_jurisdictions --from-geography` enrolls for benchmarks.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from jurisdictions.models import State as StateCode
from jurisdictions.models import choice_constraint

LATITUDE_VALIDATORS = [MinValueValidator(-90), MaxValueValidator(90)]
LONGITUDE_VALIDATORS = [MinValueValidator(-180), MaxValueValidator(180)]


class State(models.Model):
    """A state, the District of Columbia or a territory (from the `us` package)."""

    fips = models.CharField(max_length=2, unique=True, help_text="Two-digit FIPS code, e.g. 47.")
    usps = models.CharField(max_length=2, unique=True, choices=StateCode.choices, verbose_name="USPS code")
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["name"]
        constraints = [choice_constraint("usps", StateCode)]

    def __str__(self):
        return self.name


class PlaceQuerySet(models.QuerySet):
    def located(self):
        return self.filter(latitude__isnull=False, longitude__isnull=False)


class PlaceKind(models.TextChoices):
    CITY = "city", "City or town"
    COUNTY = "county", "County"


class Place(models.Model):
    """A county (Census FIPS code) or a populated place (GeoNames), with a point to map it."""

    Kind = PlaceKind

    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=200)
    state = models.ForeignKey(State, on_delete=models.CASCADE, related_name="places")
    geoid = models.CharField(
        max_length=15,
        null=True,
        blank=True,
        unique=True,
        verbose_name="Census GEOID",
        help_text="Counties: the 5-digit FIPS code. Places from GeoNames carry none.",
    )
    geonameid = models.PositiveIntegerField(
        null=True, blank=True, unique=True, verbose_name="GeoNames id", help_text="Places only."
    )
    latitude = models.FloatField(null=True, blank=True, validators=LATITUDE_VALIDATORS)
    longitude = models.FloatField(null=True, blank=True, validators=LONGITUDE_VALIDATORS)
    population = models.PositiveIntegerField(
        null=True, blank=True, help_text="GeoNames' population figure (places only)."
    )
    county = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="places",
        limit_choices_to={"kind": "county"},
        help_text="The county whose outline holds the place's point (us-atlas), when known.",
    )

    objects = PlaceQuerySet.as_manager()

    class Meta:
        ordering = ["name", "state__usps"]
        constraints = [
            choice_constraint("kind", PlaceKind),
            models.CheckConstraint(
                condition=Q(kind="county", geoid__isnull=False) | Q(kind="city", geonameid__isnull=False),
                name="geography_place_identified",
            ),
        ]
        indexes = [
            # The admin's autocomplete (by name) and the seed's link by name and state.
            models.Index(fields=["name", "state"], name="place_name_state_idx"),
        ]

    def __str__(self):
        return f"{self.name}, {self.state.usps}" if self.state_id else self.name

    @property
    def jurisdiction_kind(self):
        return "county" if self.kind == self.Kind.COUNTY else "city"
