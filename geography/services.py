"""Writes of reference geography, and the link from tracked jurisdictions to it.

`geography_load` makes the tables equal to the sources (geography/sources.py): rows are compared
and only differences written, so a second run writes nothing. These tables are not watched by the
data version (db/watch.py watches `jurisdictions_*`); pages show reference data (a place's county),
so a load that changed anything calls `services.data_written()` itself.

Reference rows are written with Django's bulk_create and bulk_update (about 6,700 rows, a second
or two on a first load): `jurisdictions/db/bulk.py` is the writer of the tracked tables, whose
versions, history and COPY these tables do not need.

`jurisdictions_locate` gives jurisdictions that have no point yet the point of their reference
place, through `services.jurisdiction_update` (versioned, with history), like any other door.
"""

from dataclasses import dataclass, field

from django.db import transaction

from jurisdictions import services
from jurisdictions.models import Jurisdiction, StatusChange

from . import sources
from .models import Place, State

BATCH = 1000


@dataclass
class LoadReport:
    created: dict = field(default_factory=dict)
    updated: dict = field(default_factory=dict)
    removed: dict = field(default_factory=dict)
    located: list = field(default_factory=list)

    @property
    def changed(self):
        return any(self.created.values()) or any(self.updated.values()) or any(self.removed.values())

    def summary(self):
        parts = []
        for name in ("states", "counties", "places"):
            parts.append(
                f"{name}: {self.created.get(name, 0)} new, {self.updated.get(name, 0)} changed, "
                f"{self.removed.get(name, 0)} removed"
            )
        parts.append(f"jurisdictions given a point: {len(self.located)}")
        return "; ".join(parts)


def _sync(report, label, rows, key, wanted, fields):
    """Make the rows of the queryset `rows` equal to `wanted` ({key: {field: value}}); counts go
    in `report`."""
    model = rows.model
    stored = {getattr(obj, key): obj for obj in rows}
    new, changed = [], []
    for k, values in wanted.items():
        obj = stored.pop(k, None)
        if obj is None:
            new.append(model(**{key: k}, **values))
        elif any(getattr(obj, f) != values[f] for f in fields):
            for f in fields:
                setattr(obj, f, values[f])
            changed.append(obj)
    model.objects.bulk_create(new, batch_size=BATCH)
    model.objects.bulk_update(changed, fields, batch_size=BATCH)
    gone = [obj.pk for obj in stored.values()]
    if gone:
        # Jurisdictions linked to a vanished place keep their coordinates (SET_NULL on the link).
        model.objects.filter(pk__in=gone).delete()
    report.created[label], report.updated[label], report.removed[label] = len(new), len(changed), len(gone)


@transaction.atomic
def geography_load(*, user=None):
    """Load (or bring up to date) every state, county and place; then locate jurisdictions."""
    report = LoadReport()
    _sync(
        report,
        "states",
        State.objects.all(),
        "fips",
        {s.fips: {"usps": s.usps, "name": s.name} for s in sources.states()},
        ["usps", "name"],
    )
    state_ids = dict(State.objects.values_list("usps", "id"))
    place_fields = ["kind", "name", "state_id", "latitude", "longitude"]
    counties = {
        c.geoid: {
            "kind": Place.Kind.COUNTY,
            "name": c.name,
            "state_id": state_ids[c.usps],
            "latitude": c.latitude,
            "longitude": c.longitude,
        }
        for c in sources.counties()
        if c.usps in state_ids
    }
    _sync(report, "counties", Place.objects.filter(kind=Place.Kind.COUNTY), "geoid", counties, place_fields)
    county_ids = dict(Place.objects.filter(kind=Place.Kind.COUNTY).values_list("geoid", "id"))
    places = {
        p.geonameid: {
            "kind": Place.Kind.CITY,
            "name": p.name,
            "state_id": state_ids[p.usps],
            "latitude": p.latitude,
            "longitude": p.longitude,
            "population": p.population,
            "county_id": county_ids.get(p.county_geoid),
        }
        for p in sources.places()
        if p.usps in state_ids
    }
    _sync(
        report,
        "places",
        Place.objects.filter(kind=Place.Kind.CITY),
        "geonameid",
        places,
        [*place_fields, "population", "county_id"],
    )
    if report.changed:
        services.data_written()  # pages show reference data (a place's county)
    report.located = jurisdictions_locate(user=user)
    return report


def reference_place_for(jurisdiction):
    """The reference place a jurisdiction is, when one matches without doubt: a county by its
    GEOID, a city by name and state (the most populous when GeoNames lists two)."""
    if jurisdiction.kind == "county" and jurisdiction.geoid:
        return Place.objects.filter(kind=Place.Kind.COUNTY, geoid=jurisdiction.geoid).first()
    if jurisdiction.kind == "city":
        return (
            Place.objects.filter(kind=Place.Kind.CITY, name=jurisdiction.name, state__usps=jurisdiction.state)
            .order_by("-population")
            .first()
        )
    return None


def jurisdictions_locate(*, user=None, via=StatusChange.Via.SYSTEM):
    """Give each jurisdiction without a point its reference place and the place's point.

    Returns the slugs of the jurisdictions changed. Synthetic jurisdictions are left alone."""
    located = []
    todo = Jurisdiction.objects.filter(latitude__isnull=True).exclude(slug__startswith="synthetic-")
    for jurisdiction in todo.filter(kind__in=["city", "county"]).order_by("pk"):
        place = reference_place_for(jurisdiction)
        if place is None or place.latitude is None:
            continue
        services.jurisdiction_update(
            jurisdiction=jurisdiction,
            user=user,
            via=via,
            place=place,
            latitude=place.latitude,
            longitude=place.longitude,
        )
        located.append(jurisdiction.slug)
    return located


def jurisdiction_values_from_place(place):
    """What a jurisdiction created from a reference place takes from it (the admin's form)."""
    values = {
        "name": place.name,
        "state": place.state.usps,
        "kind": place.jurisdiction_kind,
        "latitude": place.latitude,
        "longitude": place.longitude,
    }
    if place.kind == Place.Kind.COUNTY:
        values["geoid"] = place.geoid
    return values
