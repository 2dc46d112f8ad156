"""The public site in a real browser: filter, open a detail page, download the CSV, no console
error, a phone layout without sideways scrolling, and screenshots for people to look at."""

import csv
import re

import pytest

from tests.browser.conftest import DESKTOP, PHONE, SCREENSHOTS, fits_without_sideways_scrolling

pytestmark = pytest.mark.browser

PUBLIC_PAGES = [
    "/",
    "/programs/psp/",
    "/jurisdictions/",
    "/jurisdictions/?status=participating&state=TN&ordering=-name",
    "/jurisdictions/memphis-tn/",
    "/jurisdictions/stockton-ca/",
]


def row_names(page):
    return page.locator("table.jurisdiction-table tbody th a").all_inner_texts()


def test_filtering_the_list_by_status_and_state_works_without_javascript(open_page, console_errors, seeded):
    page = open_page(javascript=False)
    page.goto("/jurisdictions/")
    assert page.get_by_role("heading", name="16 jurisdictions").is_visible()

    page.locator("summary", has_text="Filter and sort").click()  # a <details>: opens without script
    page.get_by_label("Participating", exact=True).check()
    page.get_by_label("Ohio", exact=True).check()
    page.get_by_label("Tennessee", exact=True).check()
    page.get_by_role("button", name="Show results").click()

    page.wait_for_url(re.compile(r"status=participating"))
    assert "state=OH" in page.url and "state=TN" in page.url
    assert row_names(page) == ["Cincinnati", "Jackson", "Memphis", "Toledo"]
    assert page.get_by_role("heading", name="4 jurisdictions").is_visible()
    # The form shows what was chosen, so the page can be bookmarked and refined.
    assert page.get_by_label("Participating", exact=True).is_checked()
    assert not page.get_by_label("Letter sent", exact=True).is_checked()
    assert page.get_by_label("Ohio", exact=True).is_checked()
    assert page.get_by_label("Tennessee", exact=True).is_checked()
    assert not page.get_by_label("California", exact=True).is_checked()

    page.get_by_role("link", name="Name", exact=True).click()
    assert row_names(page) == ["Toledo", "Memphis", "Jackson", "Cincinnati"]
    assert console_errors == []


def test_a_count_on_the_overview_opens_the_filtered_list(page, seeded):
    page.goto("/")
    page.get_by_role("link", name="4 Letter sent").click()
    page.wait_for_url(re.compile(r"/jurisdictions/\?program=psp&status=letter_sent$"))
    assert row_names(page) == ["Albuquerque", "Baltimore", "San Bernardino", "Stockton"]


def test_opening_a_detail_page_from_the_list(page, seeded):
    page.goto("/jurisdictions/?state=TN")
    page.get_by_role("link", name="Memphis", exact=True).click()
    page.wait_for_url("**/jurisdictions/memphis-tn/")
    assert page.get_by_role("heading", level=1).inner_text() == "Memphis, Tennessee"
    main = page.locator("main").inner_text()
    assert "4748000" in main
    assert "Operations" in main
    assert "20 June 2017" in main
    assert "3 of 3" in main
    assert page.locator(".answer--yes").count() == 3
    assert page.locator("ol.changes > li").count() == 1


def test_downloading_the_csv_of_a_filtered_list(page, seeded):
    page.goto("/jurisdictions/?state=CA")
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("^Download CSV")).click()
    download = download_info.value
    assert re.fullmatch(r"psp-tracker-jurisdictions-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    with open(download.path(), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["slug"], r["status"], r["letter_sent_on"]) for r in rows] == [
        ("san-bernardino-ca", "letter_sent", "2017-08-03"),
        ("stockton-ca", "letter_sent", "2017-08-03"),
    ]


def test_no_public_page_logs_a_console_error(open_page, console_errors, seeded):
    for width in (DESKTOP, PHONE):
        page = open_page(width=width)
        for path in PUBLIC_PAGES:
            response = page.goto(path)
            assert response.status == 200, path
    assert console_errors == []


def test_every_public_page_fits_a_phone_without_sideways_scrolling(open_page, seeded):
    page = open_page(width=PHONE)
    wide = []
    for path in [*PUBLIC_PAGES, "/jurisdictions/?status=bogus&search=" + "w" * 100]:
        page.goto(path)
        if not fits_without_sideways_scrolling(page):
            wide.append(path)
    assert wide == []


def test_bad_input_shows_a_message_in_the_page(open_page, console_errors, seeded):
    page = open_page()
    response = page.goto("/jurisdictions/?status=bogus&page=2")
    assert response.status == 400
    alert = page.get_by_role("alert")
    assert "status" in alert.inner_text()
    assert "bogus is not one of the available choices" in alert.inner_text()
    console_errors.clear()  # the browser reports the 400 itself


def test_keyboard_users_can_skip_to_the_content_and_see_the_focus(page, seeded):
    page.goto("/jurisdictions/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to main content"
    assert page.evaluate("getComputedStyle(document.activeElement).top") != "-48px"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"


def test_screenshots_of_home_list_and_detail_at_desktop_and_phone_widths(open_page, seeded):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = {"home": "/", "list": "/jurisdictions/", "detail": "/jurisdictions/memphis-tn/"}
    saved = []
    for label, width in (("desktop", DESKTOP), ("phone", PHONE)):
        page = open_page(width=width)
        for name, path in pages.items():
            page.goto(path)
            target = SCREENSHOTS / f"{name}-{label}.png"
            page.screenshot(path=str(target), full_page=True)
            saved.append(target)
    assert all(path.stat().st_size > 10_000 for path in saved)
