"""Issue 19 in a real browser: the language switcher is a plain link to the same page, filters kept,
and the Spanish list filters like the English one."""

import re

import pytest

pytestmark = pytest.mark.browser


def test_the_switcher_opens_the_same_filtered_page_in_spanish_and_back(open_page, seeded):
    page = open_page(javascript=False)
    page.goto("/jurisdictions/?status=participating&state=TN")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="Español").click()
    page.wait_for_url(re.compile(r"/es/jurisdictions/\?status=participating&state=TN$"))
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("link", name="Jurisdicciones", exact=True).is_visible()
    # The Spanish filter form works the same way: the labels are Spanish, the values the same codes.
    assert page.get_by_label("Participa", exact=True).is_checked()
    page.get_by_role("link", name="English").click()
    page.wait_for_url(re.compile(r"/jurisdictions/\?status=participating&state=TN$"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert "/es/" not in page.url
