"""Issue 17: e-mail alerts through SMTP to a local aiosmtpd server, with the worker's run-once
mode sending the messages: double opt-in, the digest after a change, one-click unsubscribe."""

import datetime
import re

import pytest
from django.urls import reverse

from alerts.models import EmailSubscription
from alerts.services import email as email_service
from jurisdictions import services
from tests.alerts_support import SmtpSink, run_worker_once
from tests.factories import EnrollmentFactory, JurisdictionFactory
from tests.factories_alerts import EmailSubscriptionFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
LINK = re.compile(r"http://testserver(/alerts/(?:confirm|unsubscribe)/[^/\s]+/)")


@pytest.fixture
def smtp(settings):
    with SmtpSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        yield sink


@pytest.fixture
def towns(psp):
    return {
        "stockton": EnrollmentFactory(
            jurisdiction=JurisdictionFactory(name="Stockton", state="CA"), status="letter_sent"
        ),
        "houston": EnrollmentFactory(
            jurisdiction=JurisdictionFactory(name="Houston", state="TX"), status="letter_sent"
        ),
    }


def links(message):
    return LINK.findall(message.get_content())


def set_status(enrollment, status):
    return services.enrollment_set_status(enrollment=enrollment, status=status, user=None, via="admin")


def test_subscribe_confirm_digest_and_one_click_unsubscribe(client, smtp, towns):
    page = client.get(reverse("alerts:subscribe") + "?state=CA&page=2&ordering=name")
    assert page.status_code == 200
    assert b'value="state=CA"' in page.content  # the filter without page and sort
    response = client.post(
        reverse("alerts:subscribe"),
        {"email": "reader@example.org", "frequency": "immediate", "filter": "state=CA"},
    )
    assert response.status_code == 200
    assert b"reader@example.org" not in response.content
    run_worker_once()
    (confirmation,) = smtp.wait_for(1)
    assert confirmation["To"] == "reader@example.org"
    confirm_path, unsubscribe_path = links(confirmation)
    assert confirmation["List-Unsubscribe"].strip() == f"<http://testserver{unsubscribe_path}>"

    # Nothing is sent before the address is confirmed.
    set_status(towns["stockton"], "pending")
    run_worker_once()
    assert len(smtp.messages) == 1

    assert client.get(confirm_path).status_code == 200  # a page with a button: a GET changes nothing
    assert EmailSubscription.objects.get().confirmed_at is None
    assert client.post(confirm_path).status_code == 200
    assert EmailSubscription.objects.get().confirmed_at is not None

    set_status(towns["houston"], "pending")  # not in the list
    stockton = towns["stockton"]
    stockton.refresh_from_db()
    set_status(stockton, "letter_sent")
    run_worker_once()
    (_, digest) = smtp.wait_for(2)
    text = digest.get_content()
    assert "Stockton, CA: status changed in psp: pending -> letter_sent" in text
    assert "Houston" not in text
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = digest["List-Unsubscribe"].strip().strip("<>").removeprefix("http://testserver")

    response = client.post(one_click, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not EmailSubscription.objects.exists()
    set_status(towns["stockton"], "pending")
    run_worker_once()
    assert len(smtp.messages) == 2


def test_a_daily_subscription_gets_at_most_one_message_a_day(smtp, towns):
    subscription = EmailSubscriptionFactory(frequency="daily", filter_query="state=CA")
    email_service.email_confirm(subscription=subscription)
    set_status(towns["stockton"], "pending")
    run_worker_once()
    assert len(smtp.wait_for(1)) == 1
    stockton = towns["stockton"]
    stockton.refresh_from_db()
    set_status(stockton, "letter_sent")
    run_worker_once()
    assert len(smtp.messages) == 1  # the second change waits for tomorrow's message
    subscription.refresh_from_db()
    subscription.last_sent_at -= datetime.timedelta(hours=25)
    subscription.save()
    run_worker_once()
    assert len(smtp.wait_for(2)) == 2
    assert "pending -> letter_sent" in smtp.messages[1].get_content()


def test_the_digest_subject_counts_its_changes_in_good_english(smtp, towns):
    subscription = EmailSubscriptionFactory(frequency="immediate", filter_query="state=CA")
    email_service.email_confirm(subscription=subscription)
    stockton = towns["stockton"]
    set_status(stockton, "pending")
    run_worker_once()
    smtp.wait_for(1)
    for status in ("letter_sent", "pending"):
        stockton.refresh_from_db()
        set_status(stockton, status)
    run_worker_once()
    first, second = smtp.wait_for(2)
    assert (first["Subject"], second["Subject"]) == (
        "PSP Tracker: 1 change in your list",
        "PSP Tracker: 2 changes in your list",
    )


def test_a_bad_filter_is_refused_with_the_parameter_named(client, smtp):
    response = client.get(reverse("alerts:subscribe") + "?state=XX")
    assert response.status_code == 400
    assert b"state" in response.content
    response = client.post(
        reverse("alerts:subscribe"), {"email": "a@example.org", "frequency": "daily", "filter": "colour=red"}
    )
    assert response.status_code == 400
    assert b"colour" in response.content
    assert not EmailSubscription.objects.exists()


def test_subscriptions_are_rate_limited_per_address(client, smtp, settings):
    settings.ALERT_SUBSCRIBE_RATE = "2/hour"
    for n in range(2):
        data = {"email": f"r{n}@example.org", "frequency": "daily", "filter": ""}
        assert client.post(reverse("alerts:subscribe"), data).status_code == 200
    response = client.post(reverse("alerts:subscribe"), {"email": "r3@example.org", "frequency": "daily"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert EmailSubscription.objects.count() == 2


def test_the_list_page_links_the_subscribe_page_with_its_filter(client, towns):
    response = client.get(reverse("jurisdictions:jurisdiction-list") + "?state=CA&ordering=name")
    assert response.status_code == 200
    assert b'href="/alerts/subscribe/?state=CA"' in response.content
    assert b"E-mail me when this list changes" in response.content


def test_an_unknown_token_is_a_404_and_addresses_are_not_in_the_api_or_pages(client, smtp, towns):
    subscription = EmailSubscriptionFactory(email="hidden@example.org")
    assert client.get("/alerts/confirm/nope/").status_code == 404
    assert (
        b"hidden@example.org" not in client.get(reverse("alerts:confirm", args=[subscription.token])).content
    )
    assert (
        b"hidden@example.org"
        not in client.get(reverse("alerts:unsubscribe", args=[subscription.token])).content
    )
