"""Issue 14: a status never inherits a document; corrections are not events; error reports."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from jurisdictions import services
from jurisdictions.models import Enrollment, ErrorReport, StatusChange
from tests.factories import EnrollmentFactory, JurisdictionFactory, StaffUserFactory, StatusChangeFactory
from tests.factories_citations import DocumentFactory, ErrorReportFactory
from tests.test_admin import inline_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer():
    return StaffUserFactory(groups=["Reviewer"])


@pytest.fixture
def memphis():
    """Participating since 2017-06-20, as the DOJ release says, with its first timeline step."""
    release = DocumentFactory(
        kind="government_document", title="DOJ release", published_on=datetime.date(2017, 6, 20)
    )
    enrollment = EnrollmentFactory(
        jurisdiction=JurisdictionFactory(name="Memphis", state="TN"),
        status="participating",
        joined_on=datetime.date(2017, 6, 20),
        source=release,
        answers={"facility_access": "yes", "release_notice": "yes", "hold_request": "yes"},
    )
    StatusChangeFactory(enrollment=enrollment, effective_on=datetime.date(2017, 6, 20), source=release)
    return enrollment


def test_a_status_change_without_a_chosen_source_records_none_and_clears_the_old_one(memphis, reviewer):
    services.enrollment_set_status(enrollment=memphis, status="pending", user=reviewer, via="api")
    memphis.refresh_from_db()
    change = memphis.status_changes.first()
    assert (change.to_status, change.source) == ("pending", None)
    assert memphis.source is None  # the release reported participating, not this


def test_a_status_change_cites_the_source_chosen_with_it(memphis, reviewer):
    letter = DocumentFactory(kind="letter")
    services.enrollment_set_status(
        enrollment=memphis, status="pending", source=letter, user=reviewer, via="api"
    )
    assert memphis.status_changes.first().source == letter


def test_the_public_page_says_no_source_recorded_for_a_staff_change_without_one(client, memphis, reviewer):
    services.enrollment_set_status(enrollment=memphis, status="pending", user=reviewer, via="admin")
    html = client.get("/jurisdictions/memphis-tn/").content.decode()
    timeline = html.split('id="timeline-title"')[1]
    assert '<span class="muted no-source">No source recorded</span>' in timeline.split("</li>")[0]


def test_the_admin_asks_for_a_source_or_an_explicit_none_when_the_status_changes(memphis, reviewer, client):
    client.force_login(reviewer)
    url = reverse("admin:jurisdictions_enrollment_change", args=[memphis.pk])
    data = inline_data(memphis, {}, status="pending", no_source="")
    response = client.post(url, data)
    assert response.status_code == 200
    assert "choose the document that reports the new status" in response.content.decode()
    assert Enrollment.objects.get(pk=memphis.pk).status == "participating"
    response = client.post(url, inline_data(memphis, {}, status="pending"))  # no_source ticked
    assert response.status_code == 302
    assert StatusChange.objects.filter(enrollment=memphis).first().source is None


def test_a_correction_is_shown_on_the_record_it_corrects_not_as_an_event(client, memphis, reviewer):
    services.enrollment_set_status(enrollment=memphis, status="pending", user=reviewer, via="admin")
    wrong = memphis.status_changes.first()
    correction = services.status_change_correct(
        change=wrong, user=reviewer, via="admin", reason="Entered on the wrong city."
    )
    memphis.refresh_from_db()
    assert memphis.status == "participating"  # withdrawn: back to the status before it
    assert (correction.correction_of, correction.to_status) == (wrong, "participating")
    html = client.get("/jurisdictions/memphis-tn/").content.decode()
    timeline = html.split('id="timeline-title"')[1].split("</section>")[0]
    assert timeline.count('<li class="change') == 2  # the first step and the corrected one, no third
    assert "Entered on the wrong city." in timeline and "withdrawn" in timeline
    listed = client.get("/corrections/").content.decode()
    assert f'id="correction-{correction.pk}"' in listed and "Entered on the wrong city." in listed
    feed = client.get("/corrections/feed/").content.decode()
    assert "Entered on the wrong city." in feed


def test_a_withdrawn_step_is_not_in_the_record_of_any_day(client, memphis, reviewer):
    services.enrollment_set_status(enrollment=memphis, status="pending", user=reviewer, via="admin")
    services.status_change_correct(
        change=memphis.status_changes.first(), user=reviewer, via="admin", reason="Typed by mistake."
    )
    body = client.get(
        "/api/v1/jurisdictions/memphis-tn/", {"as_of": datetime.date.today().isoformat()}
    ).json()
    assert body["enrollments"][0]["status"] == "participating"


def test_a_correction_needs_a_reason(memphis, reviewer):
    with pytest.raises(ValidationError) as refused:
        services.status_change_correct(
            change=memphis.status_changes.first(), user=reviewer, via="admin", reason=" "
        )
    assert "correction_reason" in refused.value.message_dict


def test_a_revert_through_the_history_is_a_correction(memphis, reviewer, client):
    services.enrollment_set_status(enrollment=memphis, status="pending", user=reviewer, via="admin")
    memphis.refresh_from_db()
    wrong = memphis.status_changes.first()
    first = memphis.history.order_by("history_date", "history_id").first()
    client.force_login(reviewer)
    url = reverse("admin:jurisdictions_enrollment_simple_history", args=[memphis.pk, first.history_id])
    data = inline_data(memphis, {}, status="participating", source=memphis.source_id or "")
    data["opened_version"] = Enrollment.objects.get(pk=memphis.pk).version
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    newest = StatusChange.objects.filter(enrollment=memphis).order_by("-id").first()
    assert newest.correction_of == wrong
    assert StatusChange.objects.filter(enrollment=memphis).events().count() == 2


# -- error reports -----------------------------------------------------------------------------------


def report_url(slug="memphis-tn"):
    return reverse("jurisdictions:report-error", args=[slug])


def test_a_report_is_queued_and_never_published(client, memphis):
    response = client.post(
        report_url(), {"message": "The join date is wrong, it was 21 June.", "website": ""}
    )
    assert response.status_code == 200
    assert "your report was received" in response.content.decode()
    report = ErrorReport.objects.get()
    assert (report.state, report.jurisdiction) == ("open", memphis.jurisdiction)
    for path in ("/jurisdictions/memphis-tn/", "/corrections/"):
        assert "21 June" not in client.get(path).content.decode()


def test_the_honeypot_refuses_a_bot(client, memphis):
    response = client.post(report_url(), {"message": "Buy cheap things at our shop now.", "website": "x"})
    assert response.status_code == 400
    assert not ErrorReport.objects.exists()


@pytest.mark.parametrize(("message", "field"), [("short", "message"), ("m" * 2001, "message")])
def test_the_report_lengths_are_bounded(client, memphis, message, field):
    response = client.post(report_url(), {"message": message})
    assert response.status_code == 400
    assert f'href="#id_{field}"' in response.content.decode()
    assert not ErrorReport.objects.exists()


def test_reports_are_rate_limited_per_address(client, memphis, settings):
    settings.ERROR_REPORT_RATE = "2/hour"
    for _ in range(2):
        assert client.post(report_url(), {"message": "Something is wrong here."}).status_code == 200
    refused = client.post(report_url(), {"message": "Something is wrong here."})
    assert refused.status_code == 429 and refused["Retry-After"]
    assert ErrorReport.objects.count() == 2


def test_the_form_needs_a_csrf_token(memphis):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(report_url(), {"message": "Something is wrong here."})
    assert response.status_code == 403
    assert not ErrorReport.objects.exists()


def test_staff_accept_a_report_as_a_correction(memphis, reviewer, client):
    services.enrollment_set_status(enrollment=memphis, status="pending", user=reviewer, via="admin")
    wrong = memphis.status_changes.first()
    report = ErrorReportFactory(jurisdiction=memphis.jurisdiction)
    client.force_login(reviewer)
    url = reverse("admin:jurisdictions_errorreport_change", args=[report.pk])
    assert client.get(reverse("admin:jurisdictions_errorreport_changelist")).status_code == 200
    response = client.post(
        url,
        {"decision": "accept", "corrected_record": wrong.pk, "corrected_status": "", "reason": "Confirmed."},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.state == "accepted" and report.correction.correction_of == wrong
    assert "Confirmed." in client.get("/corrections/").content.decode()


def test_dismissing_needs_a_reason_and_publishes_nothing(memphis, reviewer):
    report = ErrorReportFactory(jurisdiction=memphis.jurisdiction)
    with pytest.raises(ValidationError):
        services.error_report_dismiss(report=report, user=reviewer, reason="")
    services.error_report_dismiss(report=report, user=reviewer, reason="The documents say otherwise.")
    report.refresh_from_db()
    assert report.state == "dismissed"
    assert not StatusChange.objects.corrections().exists()


def test_the_methodology_page_is_linked_from_every_page(client, memphis):
    for path in ("/", "/jurisdictions/", "/jurisdictions/memphis-tn/", "/corrections/", report_url()):
        assert 'href="/methodology/"' in client.get(path).content.decode()
    page = client.get("/methodology/").content.decode()
    for anchor in ("statuses", "answers", "sources", "as-of", "corrections", "cite", "license"):
        assert f'id="{anchor}"' in page


def test_the_detail_page_has_a_cite_block_with_a_permanent_url_and_access_date(client, memphis):
    html = client.get("/jurisdictions/memphis-tn/").content.decode()
    today = datetime.date.today()
    assert "Cite this page" in html
    assert f"/jurisdictions/memphis-tn/?as_of={today.isoformat()}" in html
    assert f"Accessed {today.day} {today:%B %Y}" in html
    assert f'href="{report_url()}"' in html


def test_a_source_page_lists_what_it_supports(client, memphis):
    html = client.get(memphis.source.get_absolute_url()).content.decode()
    assert "Memphis" in html and "Government document" in html


def test_the_letter_action_cites_the_document_chosen_with_it(admin_client):
    from tests.test_admin import changelist_action

    letter = DocumentFactory(kind="letter", title="OJP letter")
    pending = EnrollmentFactory(
        status="pending", jurisdiction=JurisdictionFactory(name="Baltimore", state="MD")
    )
    changelist_action(
        admin_client,
        "mark_letter_sent",
        [pending],
        apply="1",
        letter_sent_on="2017-08-03",
        response_due_on="2017-08-18",
        source=letter.pk,
    )
    pending.refresh_from_db()
    assert (pending.status, pending.source) == ("letter_sent", letter)
    assert StatusChange.objects.get(enrollment=pending).source == letter
