"""The staff workflow in a real browser: log into the admin through its login form, certify
Stockton's three requirements, admit it, then find it participating on the public site and feed;
record a letter with its note and source on the enrollment's form."""

import re

import pytest

from jurisdictions.models import Enrollment, StatusChange
from tests.browser.conftest import SCREENSHOTS
from tests.factories import EnrollmentFactory, JurisdictionFactory, SourceFactory, StaffUserFactory

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

PASSWORD = "a-long-test-password"


def log_in(page, user):
    page.goto("/admin/")
    page.wait_for_url(re.compile(r"/admin/login/"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/admin/$"))


def test_a_reviewer_certifies_and_admits_stockton_then_finds_it_on_the_public_site(page, seeded):
    reviewer = StaffUserFactory(username="reviewer", groups=["Reviewer"])
    stockton = seeded["stockton-ca"]
    log_in(page, reviewer)

    # Find Stockton among the enrollments whose answers are incomplete.
    page.get_by_role("link", name="Enrollments").first.click()
    page.get_by_role("link", name="Not every requirement answered yes").click()
    page.get_by_role("link", name="Stockton, CA").click()
    page.wait_for_url(re.compile(rf"/admin/jurisdictions/enrollment/{stockton.pk}/change/"))

    # Admitting with unknown answers is refused: the reason comes first on the page, naming the
    # requirements by their titles, and the three answers to fix are marked and linked.
    page.get_by_label("Status:").select_option("participating")
    page.get_by_role("button", name="Save", exact=True).click()
    refusal = page.locator("#refusal")
    expect(refusal).to_be_in_viewport()
    expect(refusal).to_contain_text("3 requirements are not yet: “DHS access to correctional")
    expect(refusal).not_to_contain_text("hold_request")
    expect(page.locator(".form-row.errors.field-answer")).to_have_count(3)
    refusal.get_by_role("link", name=re.compile("Honor a written DHS request")).click()
    expect(page.locator("#certifications-2 .field-answer .errorlist")).to_be_in_viewport()

    # Certify the three requirements with their evidence, keeping the status at letter sent.
    page.get_by_label("Status:").select_option("letter_sent")
    for index in range(3):
        page.locator(f"#id_certifications-{index}-answer").select_option("yes")
        page.locator(f"#id_certifications-{index}-legal_basis").select_option("policy")
        page.locator(f"#id_certifications-{index}-citation").fill(
            f"Stockton Police General Order {index + 1}"
        )
        page.locator(f"#id_certifications-{index}-evidence_url").fill(
            f"https://example.org/stockton/order-{index + 1}"
        )
        page.locator(f"#id_certifications-{index}-certified_by").fill("Chief of Police")
        page.locator(f"#id_certifications-{index}-certified_on").fill("2017-10-01")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "admin-enrollment-certified.png", full_page=True)

    # Admit it from the list with the reviewers' action.
    page.goto("/admin/jurisdictions/enrollment/?q=Stockton")
    page.locator(f"input[name='_selected_action'][value='{stockton.pk}']").check()
    page.get_by_role("combobox", name="Action:").select_option("admit")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_text("Admitted as participating: 1 — Stockton, CA in psp.")).to_be_visible()

    stockton.refresh_from_db()
    assert stockton.status == Enrollment.Status.PARTICIPATING
    assert set(stockton.certifications.values_list("answer", "certified_by")) == {("yes", "Chief of Police")}
    step = StatusChange.objects.filter(enrollment=stockton).latest()
    assert (step.from_status, step.to_status, step.changed_by, step.via) == (
        "letter_sent",
        "participating",
        reviewer,
        "admin",
    )

    # The public list and the feed show it.
    page.goto("/jurisdictions/?status=participating&state=CA")
    assert page.locator("table.jurisdiction-table tbody th a").all_inner_texts() == ["Stockton"]
    feed = page.request.get("/feeds/changes/")
    assert feed.status == 200
    first_item = feed.text().split("<item>")[1]
    assert "Stockton" in first_item
    assert "Participating" in first_item


def test_an_editor_records_a_letter_with_its_note_and_source_on_the_form(page, site_url):
    editor = StaffUserFactory(username="editor", groups=["Editor"])
    enrollment = EnrollmentFactory(
        status="pending", jurisdiction=JurisdictionFactory(name="Baltimore", state="MD")
    )
    letter = SourceFactory(title="Letter to Baltimore")
    log_in(page, editor)
    page.goto(f"/admin/jurisdictions/enrollment/{enrollment.pk}/change/")

    page.get_by_label("Status:").select_option("letter_sent")
    page.get_by_label("Letter sent on:").fill("2017-08-03")
    # The source is chosen by searching the documents (the admin's autocomplete).
    page.locator("#id_source + .select2 .select2-selection").click()
    page.locator(".select2-search__field").fill("Baltimore")
    page.locator(".select2-results__option").filter(has_text="Letter to Baltimore").click()
    page.get_by_label("Note on the status change:").fill("Letter of 3 August, signed by the Acting Director.")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()

    history = page.locator("#status_changes-group")
    expect(history).to_contain_text("Letter of 3 August, signed by the Acting Director.")
    expect(history).to_contain_text("Letter to Baltimore")
    step = StatusChange.objects.get(enrollment=enrollment)
    assert (step.to_status, step.note, step.source, step.changed_by) == (
        "letter_sent",
        "Letter of 3 August, signed by the Acting Director.",
        letter,
        editor,
    )

    page.goto(enrollment.jurisdiction.get_absolute_url())
    timeline = page.locator("ol.changes")
    expect(timeline).to_contain_text("Letter of 3 August, signed by the Acting Director.")
    expect(timeline).to_contain_text("Letter to Baltimore")
