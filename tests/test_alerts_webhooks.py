"""Issue 17: webhooks, end to end through the real worker (run-once mode of `run_worker` against
the database queue) and a real HTTP receiver on loopback that verifies every signature."""

import datetime
import hashlib
import hmac

import pytest
from django.db import transaction

from alerts.models import Delivery, Event, WebhookSubscription
from alerts.services import webhooks
from jurisdictions import services
from jurisdictions.transfer.importer import import_jurisdictions
from tests.alerts_support import Receiver, run_worker_once, run_worker_until
from tests.factories import EnrollmentFactory, JurisdictionFactory
from tests.factories_alerts import WebhookFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def fast_retries(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_BACKOFF_SECONDS = 0.05
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    return settings


@pytest.fixture
def towns(psp):
    stockton = EnrollmentFactory(
        jurisdiction=JurisdictionFactory(name="Stockton", state="CA"), status="letter_sent"
    )
    houston = EnrollmentFactory(
        jurisdiction=JurisdictionFactory(name="Houston", state="TX"), status="letter_sent"
    )
    return {"stockton": stockton, "houston": houston}


def subscribe(receiver, **fields):
    subscription = WebhookFactory(target_url=receiver.url, **fields)
    receiver.secret = subscription.secret
    return subscription


def set_status(enrollment, status, note=""):
    return services.enrollment_set_status(
        enrollment=enrollment, status=status, user=None, via="admin", note=note
    )


def test_a_ca_subscription_gets_one_signed_delivery_for_stockton_none_for_texas_despite_three_failures(
    fast_retries, towns
):
    with Receiver(script=[500, 503, "timeout"], slow=1.5) as receiver:
        subscription = subscribe(receiver, filter_query="state=CA")
        set_status(towns["stockton"], "pending")
        set_status(towns["houston"], "pending")
        assert run_worker_until(lambda: receiver.accepted, timeout=30)
        run_worker_once()

    assert len(receiver.posts) == 4  # three failures, then the 200
    assert {p["event_id"] for p in receiver.posts} == {receiver.accepted[0]}
    assert all(p["signature_ok"] for p in receiver.posts)
    assert [p["attempt"] for p in receiver.posts] == ["1", "2", "3", "4"]
    body = receiver.posts[-1]["body"]
    assert body["type"] == "status_changed"
    assert body["data"]["jurisdiction"] == {
        "slug": "stockton-ca",
        "name": "Stockton",
        "state": "CA",
        "kind": "city",
    }
    assert (body["data"]["from"], body["data"]["to"], body["data"]["program"]) == (
        "letter_sent",
        "pending",
        "psp",
    )
    delivery = Delivery.objects.get(subscription=subscription)
    assert (delivery.status, delivery.attempts) == ("delivered", 4)
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 503, None, 200]
    assert "timeout" in delivery.attempt_log.all()[2].error.lower()


def test_a_change_in_a_transaction_that_rolls_back_sends_nothing(fast_retries, towns):
    with Receiver() as receiver:
        subscribe(receiver)
        with pytest.raises(RuntimeError), transaction.atomic():
            set_status(towns["stockton"], "pending")
            raise RuntimeError("the caller's later step fails")
        run_worker_once()
    assert Event.objects.count() == 0
    assert receiver.posts == []


def test_deliveries_of_one_jurisdiction_arrive_in_order_even_when_the_first_is_retried(fast_retries, towns):
    with Receiver(script=[500, 500]) as receiver:
        subscribe(receiver, filter_query="state=CA")
        set_status(towns["stockton"], "pending", note="first")
        stockton = towns["stockton"]
        stockton.refresh_from_db()
        set_status(stockton, "letter_sent", note="second")
        assert run_worker_until(lambda: len(receiver.accepted) == 2, timeout=30)
    moves = [(p["body"]["data"]["from"], p["body"]["data"]["to"]) for p in receiver.posts]
    # The second change waits until the first is delivered: nothing of it before the first's 200.
    assert moves == [("letter_sent", "pending")] * 3 + [("pending", "letter_sent")]


def test_a_replay_sends_the_same_event_id_which_the_receiver_deduplicates(fast_retries, towns):
    with Receiver() as receiver:
        subscription = subscribe(receiver)
        set_status(towns["stockton"], "pending")
        assert run_worker_until(lambda: receiver.accepted)
        event = Event.objects.get()
        webhooks.delivery_replay(subscription=subscription, event=event)
        assert run_worker_until(lambda: len(receiver.posts) == 2)
    assert [p["event_id"] for p in receiver.posts] == [str(event.uid)] * 2
    assert receiver.accepted == [str(event.uid)]  # one effect, two deliveries
    assert Delivery.objects.get().attempt_log.count() == 2


def test_a_rotated_secret_signs_the_next_delivery_and_the_old_one_no_longer_verifies(fast_retries, towns):
    with Receiver() as receiver:
        subscription = subscribe(receiver)
        old = subscription.secret
        webhooks.webhook_rotate_secret(subscription=subscription)
        receiver.secret = old
        set_status(towns["stockton"], "pending")
        assert run_worker_until(lambda: receiver.posts)
        assert receiver.posts[0]["signature_ok"] is False
        receiver.secret = subscription.secret
        webhooks.delivery_replay(subscription=subscription, event=Event.objects.get())
        assert run_worker_until(lambda: len(receiver.posts) == 2)
    assert receiver.posts[1]["signature_ok"] is True


def test_events_come_from_the_importer_too_once_per_change(fast_retries, towns):
    with Receiver() as receiver:
        subscribe(receiver, filter_query="state=CA")
        report = import_jurisdictions(
            "name,state,kind,program,status\n"
            "Stockton,CA,city,psp,pending\n"
            "Fresno,CA,city,,\n"
            "Houston,TX,city,psp,pending\n"
        )
        assert not report.errors, report.errors
        assert run_worker_until(lambda: len(receiver.accepted) == 2)
        run_worker_once()
    kinds = sorted((p["body"]["type"], p["body"]["data"]["jurisdiction"]["slug"]) for p in receiver.posts)
    assert kinds == [("jurisdiction_added", "fresno-ca"), ("status_changed", "stockton-ca")]


def test_answer_changes_are_events_and_kinds_filter_them(fast_retries, towns):
    with Receiver() as receiver:
        subscribe(receiver, kinds=["answer_changed"])
        answer = towns["stockton"].certifications.get(requirement__code="hold_request")
        services.certification_update(certification=answer, user=None, via="admin", answer="no")
        set_status(towns["stockton"], "pending")
        assert run_worker_until(lambda: receiver.accepted)
        run_worker_once()
    assert [p["body"]["type"] for p in receiver.posts] == ["answer_changed"]
    data = receiver.posts[0]["body"]["data"]
    assert (data["requirement"], data["from"], data["to"]) == ("hold_request", "unknown", "no")


def test_after_the_retry_window_the_delivery_fails_and_the_subscription_is_flagged(fast_retries, towns):
    fast_retries.WEBHOOK_RETRY_HOURS = 0.0001  # 0.36 s
    with Receiver(script=[500] * 50) as receiver:
        subscription = subscribe(receiver)
        set_status(towns["stockton"], "pending")
        assert run_worker_until(lambda: Delivery.objects.filter(status="failed").exists(), timeout=20)
    subscription.refresh_from_db()
    assert subscription.failing_since is not None
    assert all(p["answered"] == 500 for p in receiver.posts)


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    body = b'{"id":"x"}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert webhooks.signature("s3cret", "1700000000", body) == expected


def test_backoff_doubles_with_jitter_and_caps_at_an_hour(settings):
    settings.WEBHOOK_BACKOFF_SECONDS = 10
    for attempt, full in [(1, 10), (2, 20), (5, 160), (20, 3600)]:
        delays = [webhooks.backoff_seconds(attempt) for _ in range(50)]
        assert all(full / 2 <= d <= full for d in delays)
        assert len(set(delays)) > 1


def test_private_and_plain_http_targets_are_refused_unless_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    assert "https" in webhooks.target_error("http://partner.example.org/hook")
    for url in ["https://127.0.0.1/hook", "https://10.1.2.3/", "https://[::1]/", "https://169.254.169.254/"]:
        assert "private" in webhooks.target_error(url), url
    assert webhooks.target_error("https://93.184.216.34/hook") is None
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    assert webhooks.target_error("http://127.0.0.1:8600/hook") is None


def test_subscriptions_created_after_an_event_do_not_get_it(fast_retries, towns):
    with Receiver() as receiver:
        set_status(towns["stockton"], "pending")
        subscribe(receiver)  # no event recorded before: nobody listened
        run_worker_once()
    assert receiver.posts == []
    assert WebhookSubscription.objects.count() == 1


def test_a_jurisdiction_added_through_the_services_is_an_event(fast_retries, psp):
    with Receiver() as receiver:
        subscribe(receiver, filter_query="state=CA")
        services.jurisdiction_create(user=None, via="api", name="Modesto", state="CA", kind="city")
        services.jurisdiction_create(user=None, via="api", name="Austin", state="TX", kind="city")
        assert run_worker_until(lambda: receiver.accepted)
        run_worker_once()
    assert [(p["body"]["type"], p["body"]["data"]["jurisdiction"]["slug"]) for p in receiver.posts] == [
        ("jurisdiction_added", "modesto-ca")
    ]
    assert datetime.datetime.fromisoformat(receiver.posts[0]["body"]["created_at"].replace("Z", "+00:00"))
