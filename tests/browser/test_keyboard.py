"""Issue 19: the list's filters and the error-report form used with the keyboard alone (Tab,
Shift+Tab, Space, Enter, and typing), with a visible focus on every control reached."""

import re

import pytest

from jurisdictions.models import ErrorReport

pytestmark = pytest.mark.browser

FOCUSED = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  return {
    tag: element.tagName.toLowerCase(),
    id: element.id,
    type: element.getAttribute("type"),
    text: (element.innerText || "").trim(),
    checked: element.checked ?? null,
    outline: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth),
  };
}"""


def press_until(page, wanted, key="Tab", limit=200):
    """Press `key` until the focused element matches `wanted`; every element passed on the way must
    show its focus (a solid outline at least 2 px wide)."""
    hidden = []
    for _ in range(limit):
        page.keyboard.press(key)
        focused = page.evaluate(FOCUSED)
        if focused["tag"] != "body" and not (focused["outline"] == "solid" and focused["outlineWidth"] >= 2):
            hidden.append(focused)
        if wanted(focused):
            assert hidden == [], f"focus not visible on {hidden}"
            return focused
    raise AssertionError(f"{key} never reached the element wanted; last focused: {focused}")


def test_filtering_the_list_with_the_keyboard_alone(open_page, console_errors, seeded):
    page = open_page()
    page.goto("/jurisdictions/")
    panel = page.locator("details.filters-panel")
    assert panel.get_attribute("open") is None

    press_until(page, lambda f: f["tag"] == "summary")
    page.keyboard.press("Enter")
    assert panel.get_attribute("open") == ""

    # A status further down the form, then back up (Shift+Tab) to a state; Space ticks each.
    press_until(page, lambda f: f["id"] == "id_status_participating")
    page.keyboard.press("Space")
    press_until(page, lambda f: f["id"] == "id_state_TN", key="Shift+Tab")
    page.keyboard.press("Space")
    assert page.locator("#id_state_TN").is_checked()
    assert page.locator("#id_status_participating").is_checked()

    press_until(page, lambda f: f["tag"] == "button" and f["type"] == "submit")
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r"\?.*state=TN.*status=participating"))
    assert page.locator("table.jurisdiction-table tbody th a").all_inner_texts() == ["Jackson", "Memphis"]
    assert page.get_by_role("heading", name="2 jurisdictions").is_visible()
    assert console_errors == []


def test_reporting_an_error_with_the_keyboard_alone(open_page, console_errors, seeded):
    page = open_page()
    page.goto("/jurisdictions/memphis-tn/")
    press_until(page, lambda f: f["tag"] == "a" and f["text"] == "Report an error on this page", limit=400)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/jurisdictions/memphis-tn/report/$"))

    press_until(page, lambda f: f["id"] == "id_message")
    page.keyboard.type("The status changed in May 2018: the city left the program.")
    press_until(page, lambda f: f["id"] == "id_evidence_url")
    page.keyboard.type("https://example.org/council-vote")
    press_until(page, lambda f: f["id"] == "id_contact")
    page.keyboard.type("reader@example.org")
    # The honeypot field is out of the tab order: the next stop is the button.
    button = press_until(page, lambda f: True)
    assert (button["tag"], button["text"]) == ("button", "Send the report")
    page.keyboard.press("Enter")

    page.locator("#report-received").wait_for()
    report = ErrorReport.objects.get()
    assert (report.jurisdiction.slug, report.message, report.evidence_url, report.contact) == (
        "memphis-tn",
        "The status changed in May 2018: the city left the program.",
        "https://example.org/council-vote",
        "reader@example.org",
    )
    assert report.state == ErrorReport.State.OPEN
    assert console_errors == []
