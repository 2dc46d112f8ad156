"""Reference geography (issue 18): the loader, the projection, the admin's create-from-place, the
GEOID rule and the generator's real places."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from shapely.geometry import Point

from geography.models import Place, State
from geography.projection import albers_usa
from geography.services import geography_load
from jurisdictions.cache import data_version
from jurisdictions.models import Jurisdiction
from jurisdictions.transfer.importer import import_jurisdictions
from tests.factories import PSP_2017_CITIES, JurisdictionFactory, seed_psp_2017
from tests.factories_geography import load_geography, state_outline
from tests.test_importer import make_csv, row

pytestmark = pytest.mark.django_db


def test_load_geography_loads_states_counties_and_places_with_points():
    load_geography()
    assert State.objects.count() == 56
    assert (State.objects.get(usps="TN").fips, State.objects.get(usps="DC").name) == (
        "47",
        "District of Columbia",
    )
    shelby = Place.objects.get(kind="county", geoid="47157")
    assert (shelby.name, shelby.state.usps) == ("Shelby County", "TN")
    assert 35.0 < shelby.latitude < 35.5 and -90.4 < shelby.longitude < -89.6
    memphis = Place.objects.get(kind="city", name="Memphis", state__usps="TN")
    assert memphis.population > 500_000 and memphis.county == shelby
    assert Place.objects.filter(kind="county").count() > 3100
    assert Place.objects.filter(kind="city", population__lt=15000).count() < 50  # a few seats of government
    for name, state, *_ in PSP_2017_CITIES:
        assert Place.objects.filter(kind="city", name=name, state__usps=state).exists(), name


@pytest.mark.django_db(transaction=True)  # the data version moves on when a write commits
def test_load_geography_twice_changes_nothing_and_keeps_the_data_version():
    load_geography()
    before = list(Place.objects.order_by("pk").values_list())
    version = data_version().token
    report = geography_load()
    assert not report.changed and report.located == []
    assert list(Place.objects.order_by("pk").values_list()) == before
    assert data_version().token == version


@pytest.mark.django_db(transaction=True)
def test_load_geography_puts_back_a_changed_place_and_moves_the_data_version_on():
    load_geography()
    Place.objects.filter(name="Memphis", state__usps="TN").update(population=1)
    version = data_version().token
    report = geography_load()
    assert report.updated["places"] == 1
    assert Place.objects.get(name="Memphis", state__usps="TN").population > 500_000
    assert data_version().token != version  # pages show reference data


def test_the_seeded_cities_get_the_point_of_their_reference_place():
    seed_psp_2017()
    load_geography()
    for jurisdiction in Jurisdiction.objects.all():
        place = Place.objects.get(kind="city", name=jurisdiction.name, state__usps=jurisdiction.state)
        assert (jurisdiction.place, jurisdiction.latitude, jurisdiction.longitude) == (
            place,
            place.latitude,
            place.longitude,
        )
        assert jurisdiction.version == 2  # through the service: versioned, with history
        assert jurisdiction.history.first().history_via == "system"
    # Jackson, Tennessee, not Jackson, Mississippi.
    assert Jurisdiction.objects.get(slug="jackson-tn").longitude == pytest.approx(-88.81, abs=0.01)


def test_every_seeded_city_projects_inside_its_states_outline():
    seed_psp_2017()
    load_geography()
    fips = {s.usps: s.fips for s in State.objects.all()}
    for jurisdiction in Jurisdiction.objects.all():
        x, y = albers_usa(jurisdiction.longitude, jurisdiction.latitude)
        assert any(p.contains(Point(x, y)) for p in state_outline(fips[jurisdiction.state])), (
            jurisdiction.slug
        )


def test_alaska_and_hawaii_go_to_their_insets_and_territories_are_not_drawn():
    anchorage = albers_usa(-149.9, 61.22)
    honolulu = albers_usa(-157.86, 21.31)
    assert any(p.contains(Point(anchorage)) for p in state_outline("02"))
    assert any(p.contains(Point(honolulu)) for p in state_outline("15"))
    assert anchorage[0] < 300 and anchorage[1] > 450  # bottom left, below California
    assert albers_usa(-66.1, 18.47) is None  # San Juan, Puerto Rico


# -- the GEOID rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "geoid", "message"),
    [
        ("city", "474800", "has 7 digits"),
        ("city", "2836000", "starts with its FIPS code 47"),
        ("county", "4715", "has 5 digits"),
        ("county", "28049", "starts with its FIPS code 47"),
        ("state", "28", "starts with its FIPS code 47"),
        ("other", "2800001234", "starts with its FIPS code 47"),
    ],
)
def test_a_geoid_must_fit_the_state_and_kind_in_the_model_and_the_importer(kind, geoid, message):
    jurisdiction = Jurisdiction(name="Somewhere", state="TN", kind=kind, geoid=geoid)
    with pytest.raises(ValidationError) as refused:
        jurisdiction.full_clean()
    assert message in refused.value.message_dict["geoid"][0]
    report = import_jurisdictions(make_csv(row(name="Somewhere", kind=kind, geoid=geoid)))
    assert [(e.line, e.column) for e in report.errors] == [(2, "geoid")]
    assert message in report.errors[0].message


@pytest.mark.parametrize(
    ("kind", "geoid"), [("city", "4748000"), ("county", "47157"), ("state", "47"), ("other", "4700012345")]
)
def test_a_geoid_with_the_states_prefix_and_length_is_accepted(kind, geoid):
    Jurisdiction(name="Somewhere", state="TN", kind=kind, slug="somewhere-tn", geoid=geoid).full_clean()


def test_synthetic_geoids_keep_their_mark():
    Jurisdiction(
        name="Synthetic X", state="TN", kind="city", slug="synthetic-x-tn", geoid="990000000001"
    ).full_clean()


def test_a_point_needs_both_coordinates():
    with pytest.raises(ValidationError) as refused:
        Jurisdiction(name="X", state="TN", kind="city", slug="x-tn", latitude=35.0).full_clean()
    assert "longitude" in refused.value.message_dict


# -- the admin ------------------------------------------------------------------------------------


def _add_form(**values):
    return {"opened_version": "1", "enrollments-TOTAL_FORMS": "0", "enrollments-INITIAL_FORMS": "0", **values}


def test_the_admin_creates_a_jurisdiction_from_a_reference_place(admin_client):
    load_geography()
    memphis = Place.objects.get(kind="city", name="Memphis", state__usps="TN")
    response = admin_client.post(
        reverse("admin:jurisdictions_jurisdiction_add"),
        _add_form(place=memphis.pk, name="", state="", kind="", slug="", geoid="4748000", ocd_id=""),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    created = Jurisdiction.objects.get()
    assert (created.name, created.state, created.kind, created.slug, created.geoid) == (
        "Memphis",
        "TN",
        "city",
        "memphis-tn",
        "4748000",
    )
    assert (created.place, created.latitude, created.longitude) == (
        memphis,
        memphis.latitude,
        memphis.longitude,
    )
    assert created.history.first().history_via == "admin"


def test_a_county_from_a_reference_place_gets_its_geoid(admin_client):
    load_geography()
    shelby = Place.objects.get(kind="county", geoid="47157")
    response = admin_client.post(
        reverse("admin:jurisdictions_jurisdiction_add"),
        _add_form(place=shelby.pk, name="", state="", kind="", slug="", geoid="", ocd_id=""),
    )
    assert response.status_code == 302
    created = Jurisdiction.objects.get()
    assert (created.name, created.kind, created.geoid, created.slug) == (
        "Shelby County",
        "county",
        "47157",
        "shelby-county-tn",
    )


def test_a_place_geoid_typed_by_staff_is_checked_against_the_state(admin_client):
    load_geography()
    memphis = Place.objects.get(kind="city", name="Memphis", state__usps="TN")
    response = admin_client.post(
        reverse("admin:jurisdictions_jurisdiction_add"),
        _add_form(place=memphis.pk, name="", state="", kind="", slug="", geoid="2836000", ocd_id=""),
    )
    assert response.status_code == 200
    assert "starts with its FIPS code 47" in response.content.decode()
    assert not Jurisdiction.objects.exists()


def test_without_a_place_the_name_state_and_kind_are_required(admin_client):
    response = admin_client.post(
        reverse("admin:jurisdictions_jurisdiction_add"),
        _add_form(name="", state="", kind="", slug="", geoid="", ocd_id=""),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert {name for name, messages in errors.items() if "or choose a reference place" in messages[0]} == {
        "name",
        "state",
        "kind",
    }


def test_the_autocomplete_finds_a_place_by_name_and_state(admin_client):
    load_geography()
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "jurisdictions",
            "model_name": "jurisdiction",
            "field_name": "place",
            "term": "jackson tn",
        },
    )
    assert response.status_code == 200
    texts = [r["text"] for r in response.json()["results"]]
    assert "Jackson, TN" in texts and "Jackson, MS" not in texts


def test_the_place_list_links_to_a_new_jurisdiction_made_from_it(admin_client):
    load_geography()
    memphis = Place.objects.get(kind="city", name="Memphis", state__usps="TN")
    listing = admin_client.get(
        reverse("admin:geography_place_changelist"), {"q": "memphis tn"}
    ).content.decode()
    add = f"{reverse('admin:jurisdictions_jurisdiction_add')}?place={memphis.pk}"
    assert f'<a href="{add}">Create a jurisdiction from it</a>' in listing
    form = admin_client.get(add).content.decode()
    assert f'<option value="{memphis.pk}" selected>Memphis, TN</option>' in form


def test_an_editor_can_look_places_up_but_not_change_them(client):
    from tests.factories import StaffUserFactory

    load_geography()
    client.force_login(StaffUserFactory(groups=["Editor"]))
    response = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "jurisdictions",
            "model_name": "jurisdiction",
            "field_name": "place",
            "term": "memphis",
        },
    )
    assert response.status_code == 200 and "Memphis, TN" in [r["text"] for r in response.json()["results"]]
    memphis = Place.objects.get(name="Memphis", state__usps="TN")
    assert client.post(reverse("admin:geography_place_change", args=[memphis.pk]), {}).status_code == 403


# -- generate_jurisdictions --from-geography ------------------------------------------------------


def test_generate_from_geography_enrolls_real_places_marked_as_synthetic():
    load_geography()
    call_command("generate_jurisdictions", count=40, from_geography=True, verbosity=0)
    generated = list(Jurisdiction.objects.select_related("place"))
    assert len(generated) == 40
    for j in generated:
        assert j.slug.startswith("synthetic-") and j.geoid.startswith("99")
        assert j.name == f"{j.place.name} (synthetic)"
        assert (j.latitude, j.longitude, j.state) == (j.place.latitude, j.place.longitude, j.place.state.usps)
    assert "New York City (synthetic)" in {j.name for j in generated}  # most populous first


def test_generate_from_geography_refuses_more_places_than_it_has():
    with pytest.raises(CommandError, match="reference places"):
        call_command("generate_jurisdictions", count=5, from_geography=True, verbosity=0)


def test_generate_from_geography_refuses_a_database_with_real_jurisdictions():
    JurisdictionFactory()
    load_geography()
    with pytest.raises(CommandError, match="real"):
        call_command("generate_jurisdictions", count=5, from_geography=True, verbosity=0)
