"""The map, the GeoJSON export and lookup by identifier (issue 18), on the seed's 16 cities."""

import json
import re

import pytest
from django.urls import reverse
from shapely.geometry import shape

from geography.models import Place
from jurisdictions.models import Jurisdiction
from jurisdictions.transfer.format import csv_columns
from tests.factories import EnrollmentFactory, JurisdictionFactory, seed_psp_2017
from tests.factories_geography import load_geography
from tests.problems import errors_of

pytestmark = pytest.mark.django_db

LIST = reverse("jurisdictions:jurisdiction-list")
API = reverse("api:jurisdiction-list")
MARK = re.compile(
    r'<a href="(/jurisdictions/[^"]+/)" class="usmap__mark usmap__mark--(\w+)"><title>([^<]+)</title><(\w+)'
)


@pytest.fixture
def seeded():
    seed_psp_2017()
    load_geography()


def marks(html):
    return MARK.findall(html)


def test_the_home_page_maps_the_16_seeded_cities_with_status_as_colour_and_shape(client, seeded):
    html = client.get("/").content.decode()
    found = marks(html)
    assert sorted(url for url, *_ in found) == sorted(
        j.get_absolute_url() for j in Jurisdiction.objects.all()
    )
    shapes = {status: {shape for _, s, _, shape in found if s == status} for _, status, _, _ in found}
    assert shapes == {"participating": {"circle"}, "letter_sent": {"path"}}  # a triangle is a path
    assert sum(1 for _, s, *_ in found if s == "participating") == 12
    assert ("/jurisdictions/memphis-tn/", "participating", "Memphis, TN: Participating", "circle") in found
    assert 'role="img" aria-labelledby="usmap-title usmap-desc"' in html
    assert '<svg class="usmap__svg" viewBox="0 0 975 610"' in html


def test_the_home_pages_table_alternative_lists_the_same_16(client, seeded):
    html = client.get("/").content.decode()
    table = html[html.index('id="usmap-table"') : html.index("</table>", html.index('id="usmap-table"'))]
    rows = re.findall(r'<th scope="row"><a href="([^"]+)">([^<]+)</a></th><td>(\w\w)</td>', table)
    assert sorted(url for url, _, _ in rows) == sorted(url for url, *_ in marks(html))
    assert len(rows) == 16
    assert '<a href="#usmap-table">The same jurisdictions as a table</a>' in html


def test_a_jurisdiction_without_a_point_or_enrollment_has_no_mark(client, seeded):
    EnrollmentFactory(jurisdiction=JurisdictionFactory(name="Nowhere"))  # no point
    JurisdictionFactory(name="Lone", latitude=36.0, longitude=-86.0)  # not enrolled
    assert len(marks(client.get("/").content.decode())) == 16


def test_the_lists_map_follows_its_filters(client, seeded):
    html = client.get(LIST, {"status": "letter_sent"}).content.decode()
    assert sorted(url.split("/")[2] for url, *_ in marks(html)) == [
        "albuquerque-nm",
        "baltimore-md",
        "san-bernardino-ca",
        "stockton-ca",
    ]
    html = client.get(LIST, {"state": "TN", "page_size": 1}).content.decode()
    assert sorted(url.split("/")[2] for url, *_ in marks(html)) == [
        "jackson-tn",
        "memphis-tn",
    ]  # every page's
    assert '<a href="#results-table">The same jurisdictions as a table</a>' in html
    html = client.get(LIST, {"ordering": "status", "geoid": "4748000"}).content.decode()
    assert [url for url, *_ in marks(html)] == ["/jurisdictions/memphis-tn/"]


def test_the_list_links_its_geojson_with_the_same_filters(client, seeded):
    html = client.get(LIST, {"state": "TN", "page_size": 10}).content.decode()
    assert f'href="{API}?state=TN&amp;format=geojson"' in html


def test_a_new_jurisdiction_is_placed_at_run_time(client, seeded):
    EnrollmentFactory(
        jurisdiction=JurisdictionFactory(name="Anchorage", state="AK", latitude=61.2, longitude=-149.9)
    )
    found = {url: shape for url, _, _, shape in marks(client.get("/").content.decode())}
    assert "/jurisdictions/anchorage-ak/" in found


# -- GeoJSON --------------------------------------------------------------------------------------


def geojson(client, **params):
    response = client.get(API, {"format": "geojson", **params})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert response.streaming
    return json.loads(b"".join(response.streaming_content))


def test_geojson_of_the_participating_cities_is_12_valid_points(client, seeded):
    collection = geojson(client, status="participating")
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    assert len(features) == 12
    for feature in features:
        assert feature["type"] == "Feature"
        point = shape(feature["geometry"])
        assert point.geom_type == "Point" and point.is_valid
        jurisdiction = Jurisdiction.objects.get(slug=feature["properties"]["slug"])
        # RFC 7946: longitude, then latitude.
        assert (point.x, point.y) == (jurisdiction.longitude, jurisdiction.latitude)
        assert list(feature["properties"]) == csv_columns()
        assert feature["properties"]["status"] == "participating"
    memphis = next(f for f in features if f["properties"]["slug"] == "memphis-tn")
    assert memphis["properties"]["geoid"] == "4748000" and memphis["properties"]["letter_sent_on"] is None


def test_geojson_keeps_a_jurisdiction_without_a_point_with_null_geometry(client, seeded):
    EnrollmentFactory(jurisdiction=JurisdictionFactory(name="=Nowhere", slug="nowhere-tn"))
    features = geojson(client, search="nowhere")["features"]
    assert [(f["geometry"], f["properties"]["name"]) for f in features] == [
        (None, "=Nowhere")
    ]  # not '=Nowhere


def test_geojson_with_a_bad_filter_is_a_json_400_naming_it(client):
    response = client.get(API, {"format": "geojson", "geoid": "47-48"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert list(errors_of(response)) == ["geoid"]


# -- lookup by identifiers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "slugs"),
    [
        ({"geoid": "4748000"}, ["memphis-tn"]),
        ({"geoid": "0107000"}, ["birmingham-al"]),
        ({"geoid": "107000"}, []),  # exact, leading zero kept
        ({"ocd_id": "ocd-division/country:us/state:tn/place:jackson"}, ["jackson-tn"]),
        ({"ocd_id": "ocd-division/country:us/state:tn"}, []),
    ],
)
def test_geoid_and_ocd_id_filters_are_exact(client, seeded, params, slugs):
    response = client.get(API, params)
    assert [j["slug"] for j in response.json()["results"]] == slugs


@pytest.mark.parametrize(("name", "value"), [("geoid", "47-48"), ("geoid", "1" * 16), ("ocd_id", "memphis")])
def test_a_malformed_identifier_is_a_400_naming_the_parameter(client, name, value):
    response = client.get(API, {name: value})
    assert response.status_code == 400 and list(errors_of(response)) == [name]
    page = client.get(LIST, {name: value})
    assert (
        page.status_code == 400
        and f'id="error-{name}"' in page.content.decode()
        or name in page.content.decode()
    )


def test_the_geoid_address_redirects_to_memphis(client, seeded):
    response = client.get("/jurisdictions/geoid/4748000/")
    assert (response.status_code, response["Location"]) == (302, "/jurisdictions/memphis-tn/")


def test_the_ocd_address_redirects_to_the_jurisdiction(client, seeded):
    response = client.get("/jurisdictions/ocd/ocd-division/country:us/state:oh/place:toledo/")
    assert (response.status_code, response["Location"]) == (302, "/jurisdictions/toledo-oh/")


def test_an_ocd_id_shared_by_two_jurisdictions_leads_to_the_filtered_list(client):
    JurisdictionFactory(name="A", ocd_id="ocd-division/country:us/state:tn/place:twin")
    JurisdictionFactory(name="B", ocd_id="ocd-division/country:us/state:tn/place:twin")
    response = client.get("/jurisdictions/ocd/ocd-division/country:us/state:tn/place:twin/")
    assert response["Location"] == f"{LIST}?ocd_id=ocd-division%2Fcountry%3Aus%2Fstate%3Atn%2Fplace%3Atwin"


@pytest.mark.parametrize(
    "path", ["/jurisdictions/geoid/4799999/", "/jurisdictions/ocd/ocd-division/country:us/x:y/"]
)
def test_an_unknown_identifier_is_the_404_page(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.content.decode()


def test_the_detail_page_names_the_county_and_links_it_when_tracked(client, seeded):
    html = client.get("/jurisdictions/memphis-tn/").content.decode()
    assert "<dt>County</dt><dd>Shelby County" in html
    shelby = Place.objects.get(geoid="47157")
    JurisdictionFactory(name="Shelby County", kind="county", geoid="47157", place=shelby)
    html = client.get("/jurisdictions/memphis-tn/").content.decode()
    assert '<dt>County</dt><dd><a href="/jurisdictions/shelby-county-tn/">Shelby County</a>' in html
