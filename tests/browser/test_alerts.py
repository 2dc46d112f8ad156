"""Issue 17: a reader subscribes from the list page, follows the confirmation link from the e-mail
(delivered over SMTP to aiosmtpd by the worker), gets the digest after a change and follows the
unsubscribe link. Chromium, no JavaScript needed."""

import re

import pytest

from alerts.models import EmailSubscription
from jurisdictions import services
from jurisdictions.models import Enrollment
from tests.alerts_support import SmtpSink, run_worker_once

pytestmark = pytest.mark.browser


@pytest.fixture
def smtp(settings):
    with SmtpSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        yield sink


def link(message, kind):
    return re.search(rf"(http://\S+/alerts/{kind}/[^/\s]+/)", message.get_content()).group(1)


def test_a_reader_confirms_gets_the_digest_and_unsubscribes_through_the_links(open_page, seeded, smtp):
    page = open_page(javascript=False)
    page.goto("/jurisdictions/?state=CA")
    page.get_by_role("link", name="E-mail me when this list changes").click()
    page.wait_for_url(re.compile(r"/alerts/subscribe/\?state=CA$"))
    page.get_by_label("Your e-mail address").fill("reader@example.org")
    page.get_by_label("As soon as something changes").check()
    page.get_by_role("button", name="Subscribe").click()
    assert page.get_by_role("heading", name="Check your e-mail").is_visible()

    run_worker_once()
    (confirmation,) = smtp.wait_for(1)
    page.goto(link(confirmation, "confirm"))
    page.get_by_role("button", name=re.compile("Confirm")).click()
    assert page.get_by_role("heading", name="Alert confirmed").is_visible()
    assert EmailSubscription.objects.get().confirmed_at is not None

    stockton = Enrollment.objects.get(jurisdiction__slug="stockton-ca")
    services.enrollment_set_status(enrollment=stockton, status="pending", user=None, via="admin")
    run_worker_once()
    _, digest = smtp.wait_for(2)
    assert "Stockton, CA: status changed in psp" in digest.get_content()

    page.goto(link(digest, "unsubscribe"))
    page.get_by_role("button", name="Unsubscribe").click()
    assert page.get_by_role("heading", name="Unsubscribed").is_visible()
    assert not EmailSubscription.objects.exists()
