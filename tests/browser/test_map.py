"""The map in a real browser (issue 18): the 16 seeded cities in their places, a mark per city that
can be focused and followed without JavaScript, a phone layout, and screenshots to look at."""

import pytest
from django.core.management import call_command

from tests.browser.conftest import DESKTOP, SCREENSHOTS, fits_without_sideways_scrolling

pytestmark = pytest.mark.browser
PHONE_390 = 390


@pytest.fixture
def located(seeded):
    call_command("load_geography", verbosity=0)
    return seeded


def mark_centres(page):
    """{label: (x, y)} of the marks, in CSS pixels of the page."""
    return page.eval_on_selector_all(
        "a.usmap__mark",
        """marks => Object.fromEntries(marks.map(m => {
            const box = m.getBoundingClientRect();
            return [m.querySelector('title').textContent, [box.x + box.width / 2, box.y + box.height / 2]];
        }))""",
    )


def test_the_home_page_maps_the_16_seeded_cities_in_their_places(open_page, console_errors, located):
    page = open_page(width=DESKTOP, javascript=False)
    page.goto("/")
    map_image = page.get_by_role(
        "img", name="Map of the jurisdictions enrolled in the Public Safety Partnership"
    )
    assert map_image.is_visible()
    centres = mark_centres(page)
    assert len(centres) == 16
    x = {label.split(",")[0]: point[0] for label, point in centres.items()}
    y = {label.split(",")[0]: point[1] for label, point in centres.items()}
    # West to east and north to south as on a map of the country.
    assert (
        x["Stockton"] < x["San Bernardino"] < x["Albuquerque"] < x["Houston"] < x["Memphis"] < x["Baltimore"]
    )
    assert y["Lansing"] < y["Indianapolis"] < y["Memphis"] < y["Birmingham"] < y["Baton Rouge"]
    assert abs(x["Jackson"] - x["Memphis"]) < 25 and abs(y["Jackson"] - y["Memphis"]) < 15  # both in west TN
    # The table alternative lists the same 16.
    table = page.get_by_role("table", name="Jurisdictions on the map")
    names = table.locator("tbody th a").all_inner_texts()
    assert sorted(names) == sorted(label.split(",")[0] for label in centres)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("figure.usmap").screenshot(path=SCREENSHOTS / "map-home-desktop.png")
    page.screenshot(path=SCREENSHOTS / "home-map-desktop-full.png", full_page=True)
    assert console_errors == []


def test_a_mark_is_focusable_named_and_leads_to_the_page(open_page, located):
    page = open_page(javascript=False)
    page.goto("/")
    memphis = page.get_by_role("link", name="Memphis, TN: Participating")
    memphis.focus()
    assert page.evaluate("document.activeElement.getAttribute('href')") == "/jurisdictions/memphis-tn/"
    page.keyboard.press("Enter")
    page.wait_for_url("**/jurisdictions/memphis-tn/")
    assert page.get_by_text("Shelby County").is_visible()


def test_the_map_fits_a_phone(open_page, located):
    page = open_page(width=PHONE_390, height=844, javascript=False)
    page.goto("/")
    assert fits_without_sideways_scrolling(page)
    box = page.locator("svg.usmap__svg").bounding_box()
    assert box["width"] <= PHONE_390 and box["height"] > 150
    assert len(mark_centres(page)) == 16
    page.locator("figure.usmap").screenshot(path=SCREENSHOTS / "map-home-phone.png")
    page.screenshot(path=SCREENSHOTS / "home-map-phone-full.png", full_page=True)


def test_the_lists_map_follows_the_filters(open_page, located):
    page = open_page(javascript=False)
    page.goto("/jurisdictions/?status=letter_sent")
    assert sorted(label.split(",")[0] for label in mark_centres(page)) == [
        "Albuquerque",
        "Baltimore",
        "San Bernardino",
        "Stockton",
    ]
    page.locator("figure.usmap").screenshot(path=SCREENSHOTS / "map-list-letter-sent-desktop.png")
