"""Issue 19, phone first: on a 390 x 844 phone the detail page's status and the list's first result
are in the first screenful, and the state filter works by touch (checkboxes, no modifier key)."""

import re

import pytest

from tests.browser.conftest import DESKTOP, SCREENSHOTS

pytestmark = pytest.mark.browser

PHONE_WIDTH, PHONE_HEIGHT = 390, 844


def open_phone(open_page, **options):
    return open_page(width=PHONE_WIDTH, height=PHONE_HEIGHT, **options)


def test_the_detail_page_shows_the_status_in_the_first_screenful_of_a_phone(open_page, seeded):
    page = open_phone(open_page)
    page.goto("/jurisdictions/memphis-tn/")
    status = page.locator(".enrollment .status").first
    assert status.inner_text() == "Participating"
    box = status.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] < PHONE_HEIGHT, box
    # The identifiers come after the status, the answers and the timeline.
    geoid = page.locator("code", has_text="4748000").bounding_box()
    assert geoid["y"] > page.locator(".requirement-answer").last.bounding_box()["y"]


def test_the_list_shows_its_first_result_in_the_first_screenful_of_a_phone(open_page, seeded):
    page = open_phone(open_page)
    for path in ("/jurisdictions/", "/jurisdictions/?state=TN&state=OH&status=participating"):
        page.goto(path)
        first = page.locator("table.jurisdiction-table tbody tr").first
        name = first.locator("th a")
        assert name.inner_text() in ("Albuquerque", "Cincinnati")
        box = name.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] < PHONE_HEIGHT, (path, box)
        # The filters are one closed line above it, not 1,800 px of controls.
        assert not page.get_by_label("Tennessee", exact=True).is_visible()


def test_the_state_filter_works_by_touch(open_page, console_errors, seeded):
    page = open_phone(open_page, has_touch=True, is_mobile=True)
    page.goto("/jurisdictions/")
    page.locator("summary", has_text="Filter and sort").tap()
    california = page.get_by_label("California", exact=True)
    texas = page.get_by_label("Texas", exact=True)
    california.tap()
    page.get_by_label("Tennessee", exact=True).tap()
    assert california.is_checked() and page.get_by_label("Tennessee", exact=True).is_checked()
    assert not texas.is_checked()
    page.get_by_role("button", name="Show results").tap()

    # The same parameters as the API's: one `state` per choice.
    page.wait_for_url(re.compile(r"\?.*state=CA&state=TN"))
    names = page.locator("table.jurisdiction-table tbody th a").all_inner_texts()
    assert names == ["Jackson", "Memphis", "San Bernardino", "Stockton"]
    assert page.get_by_role("heading", name="4 jurisdictions").is_visible()
    assert console_errors == []


def test_screenshots_of_the_phone_first_pages(open_page, seeded):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    saved = []
    for width in (PHONE_WIDTH, DESKTOP):
        page = open_page(width=width, height=PHONE_HEIGHT if width == PHONE_WIDTH else 900)
        for name, path in (("detail", "/jurisdictions/memphis-tn/"), ("list", "/jurisdictions/")):
            page.goto(path)
            target = SCREENSHOTS / f"phone-first-{name}-{width}.png"
            page.screenshot(path=str(target))  # the first screenful, as a reader first sees it
            saved.append(target)
        page.locator("summary", has_text="Filter and sort").click()
        target = SCREENSHOTS / f"phone-first-list-filters-open-{width}.png"
        page.screenshot(path=str(target), full_page=True)
        saved.append(target)
    assert all(path.stat().st_size > 10_000 for path in saved)
