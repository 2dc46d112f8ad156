"""Issue 14 in a real browser: a reader reports an error (no account), staff find it in the queue
and accept it as a correction, which the public then sees; and the as-of banner."""

import re

import pytest

from jurisdictions import services
from jurisdictions.models import ErrorReport, StatusChange
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_staff import log_in
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect


def test_a_reported_error_is_queued_then_accepted_as_a_correction(open_page, console_errors, seeded):
    reviewer = StaffUserFactory(username="reviewer", groups=["Reviewer"])
    memphis = seeded["memphis-tn"]
    # The wrong record: an ordinary staff change with no source.
    services.enrollment_set_status(enrollment=memphis, status="pending", user=reviewer, via="admin")
    wrong = StatusChange.objects.filter(enrollment=memphis).first()

    # A reader, without an account, reports it from the page.
    reader = open_page()
    reader.goto("/jurisdictions/memphis-tn/")
    expect(reader.locator("#timeline-title + p + ol .no-source").first).to_have_text("No source recorded")
    reader.get_by_role("link", name="Report an error on this page").click()
    reader.wait_for_url(re.compile(r"/jurisdictions/memphis-tn/report/$"))
    assert not reader.locator(".honeypot input").is_visible()
    reader.get_by_label("What is wrong?").fill(
        "Memphis was never moved to pending; it is still participating."
    )
    reader.get_by_label("A document that shows it (web address)").fill("https://example.org/memphis")
    reader.get_by_role("button", name="Send the report").click()
    expect(reader.locator("#report-received")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    reader.screenshot(path=SCREENSHOTS / "report-sent.png", full_page=True)

    # Queued, not published.
    report = ErrorReport.objects.get()
    assert report.state == ErrorReport.State.OPEN
    reader.goto("/corrections/")
    expect(reader.get_by_text("No correction has been recorded.")).to_be_visible()

    # Staff accept it as a correction of the wrong record.
    staff = open_page()
    log_in(staff, reviewer)
    staff.goto("/admin/jurisdictions/errorreport/")
    staff.locator("#result_list").get_by_role("link", name=re.compile("Memphis")).click()
    expect(staff.get_by_text("Memphis was never moved to pending")).to_be_visible()
    staff.get_by_label("Decision:").select_option("accept")
    staff.get_by_label("Corrected record:").select_option(str(wrong.pk))
    staff.get_by_label("Reason:").fill("Entered by mistake; the DOJ release still lists Memphis.")
    staff.get_by_role("button", name="Save", exact=True).click()
    staff.wait_for_url(re.compile(r"/admin/jurisdictions/errorreport/$"))
    report.refresh_from_db()
    assert report.state == ErrorReport.State.ACCEPTED

    # The public sees the correction on its page and on the record, not as a new event.
    reader.goto("/corrections/")
    expect(reader.get_by_text("Entered by mistake; the DOJ release still lists Memphis.")).to_be_visible()
    reader.goto("/jurisdictions/memphis-tn/")
    timeline = reader.locator("#timeline-title ~ ol.changes > li")
    expect(timeline).to_have_count(2)
    expect(reader.locator(".correction-note")).to_contain_text("Entered by mistake")
    reader.screenshot(path=SCREENSHOTS / "detail-corrected.png", full_page=True)
    assert console_errors == []


def test_the_as_of_banner_shows_a_past_day_and_links_back(page, seeded):
    page.goto("/jurisdictions/?as_of=2017-07-01")
    banner = page.locator("#as-of-banner")
    expect(banner).to_contain_text("Record as of 1 July 2017")
    expect(page.get_by_role("heading", name="12 jurisdictions")).to_be_visible()
    page.goto("/jurisdictions/memphis-tn/?as_of=2017-07-01")
    expect(page.locator("#as-of-banner")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "detail-as-of.png", full_page=True)
    page.locator("#as-of-banner").get_by_role("link", name="See the current record").click()
    page.wait_for_url(re.compile(r"/jurisdictions/memphis-tn/$"))
    expect(page.locator("#as-of-banner")).to_have_count(0)
