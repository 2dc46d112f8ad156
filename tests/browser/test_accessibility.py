"""Issue 19: an axe-core audit of the public pages in a real browser, in every public language, at
desktop and phone widths. Any violation of impact "serious" or "critical" fails, naming the rule,
the elements and axe's help.

axe-core comes inside axe-playwright-python (axe.min.js), injected into the page by Playwright:
nothing is fetched at run time.
"""

import pytest

from tests.browser.conftest import DESKTOP, _unavailable
from tests.browser.languages import prefix, public_languages

pytestmark = pytest.mark.browser

PHONE = 390
FAILING_IMPACTS = ("serious", "critical")
# Enough query parameters to pass DATA_UPLOAD_MAX_NUMBER_FIELDS: Django's own 400 (handler400).
TOO_MANY_FIELDS = "&".join(f"x{n}=1" for n in range(1100))


def open_filters(page):
    page.locator("summary.filters-panel__summary").click()


# (name, path, expected status, what to do before the audit)
PAGES = [
    ("home", "/", 200, None),
    ("program", "/programs/psp/", 200, None),
    ("list", "/jurisdictions/", 200, None),
    ("list with its filters open", "/jurisdictions/", 200, open_filters),
    ("list filtered", "/jurisdictions/?state=TN&state=OH&status=participating&ordering=-name", 200, None),
    ("list with no result", "/jurisdictions/?search=zzzz", 200, None),
    ("detail", "/jurisdictions/memphis-tn/", 200, None),
    ("detail with a letter", "/jurisdictions/stockton-ca/", 200, None),
    ("detail as of a day", "/jurisdictions/memphis-tn/?as_of=2017-07-01", 200, None),
    ("report an error", "/jurisdictions/memphis-tn/report/", 200, None),
    ("methodology", "/methodology/", 200, None),
    ("corrections", "/corrections/", 200, None),
    ("404", "/jurisdictions/atlantis-zz/", 404, None),
    ("400: an invalid filter", "/jurisdictions/?status=bogus&as_of=tomorrow", 400, open_filters),
    ("400: an invalid day on the detail page", "/jurisdictions/memphis-tn/?as_of=bogus", 400, None),
    ("400: a malformed request", f"/jurisdictions/?{TOO_MANY_FIELDS}", 400, None),
]


@pytest.fixture
def axe(browser):
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        _unavailable("axe-playwright-python is not installed: pip install -r requirements-dev.txt")
    return Axe()


def serious_violations(axe, page):
    results = axe.run(page)
    return [v for v in results.response["violations"] if v["impact"] in FAILING_IMPACTS]


def describe(where, violation):
    lines = [
        f"{where}: {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>"
    ]
    for node in violation["nodes"]:
        lines.append(f"    {', '.join(map(str, node['target']))}: {node.get('failureSummary', '').strip()}")
    return "\n".join(lines)


@pytest.mark.parametrize("width", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("language", public_languages())
def test_public_pages_have_no_serious_accessibility_violation(
    axe, open_page, console_errors, seeded, language, width
):
    page = open_page(width=width, height=844 if width == PHONE else 900)
    found = []
    for name, path, status, before in PAGES:
        response = page.goto(prefix(language) + path)
        assert response.status == status, f"{name}: {path[:80]} answered {response.status}"
        if before:
            before(page)
        found += [describe(f"{name} [{language}, {width} px]", v) for v in serious_violations(axe, page)]
    console_errors.clear()  # the 4xx pages are reported by the browser itself
    assert found == [], "axe found serious or critical violations:\n" + "\n".join(found)


@pytest.mark.parametrize("language", public_languages())
def test_the_csrf_failure_page_has_no_serious_accessibility_violation(
    axe, open_page, console_errors, seeded, language
):
    page = open_page()
    page.goto(prefix(language) + "/jurisdictions/memphis-tn/report/")
    # A form sent without its CSRF token (an expired page, say): Django's 403 via CSRF_FAILURE_VIEW.
    page.locator("input[name=csrfmiddlewaretoken]").evaluate("input => input.remove()")
    page.locator("textarea[name=message]").fill("The status is out of date since last month.")
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.locator("form.report-form button[type=submit]").click()
    assert sent.value.status == 403
    found = [describe(f"403 [{language}]", v) for v in serious_violations(axe, page)]
    console_errors.clear()
    assert found == [], "axe found serious or critical violations:\n" + "\n".join(found)


def test_the_audit_reports_what_it_should(axe, open_page, site_url):
    # The audit itself: an image without text, an empty link and grey-on-white text are caught.
    page = open_page()
    page.goto("/")
    page.evaluate(
        """() => {
          const main = document.querySelector("main");
          main.insertAdjacentHTML("beforeend", '<img src="/static/img/favicon.svg"><a href="/"></a><p>faint</p>');
          main.lastElementChild.style.color = "#bbb";  // the CSP refuses inline style attributes
        }"""
    )
    found = {v["id"]: v for v in serious_violations(axe, page)}
    assert {"image-alt", "link-name", "color-contrast"} <= set(found)
    assert "image-alt (critical): Images must have alternative text" in describe("home", found["image-alt"])
