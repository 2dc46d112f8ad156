"""Retention (ALERTS_RETENTION_DAYS): ended deliveries, passed events, unconfirmed addresses,
finished task results and ended import jobs are deleted after the retention, by the worker's sweep
and by `manage.py prune_alerts`; an event still waiting for a delivery is never deleted."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from alerts.models import Delivery, DeliveryAttempt, EmailSubscription, Event, WebhookSubscription
from alerts.services.retention import alerts_prune
from alerts.tasks import pump
from jurisdictions.models import ImportJob
from tests.alerts_support import run_worker_once
from tests.factories_alerts import EmailSubscriptionFactory, WebhookFactory

OLD = datetime.timedelta(days=91)  # past the default 90 days
RECENT = datetime.timedelta(days=89)


def event(age, *, dispatched=True):
    created = Event.objects.create(kind="status_changed", payload={})
    now = timezone.now()
    Event.objects.filter(pk=created.pk).update(
        created_at=now - age, dispatched_at=(now - age) if dispatched else None
    )
    return created


def delivery(subscription, of, status, age):
    made = Delivery.objects.create(
        subscription=subscription,
        event=of,
        status=status,
        next_attempt_at=timezone.now() + datetime.timedelta(minutes=5),
    )
    DeliveryAttempt.objects.create(delivery=made, attempt=1, status_code=500, latency_ms=3)
    Delivery.objects.filter(pk=made.pk).update(created_at=timezone.now() - age)
    return made


def email_subscription(age, *, confirmed):
    made = EmailSubscriptionFactory(confirmed_at=timezone.now() if confirmed else None)
    EmailSubscription.objects.filter(pk=made.pk).update(created_at=timezone.now() - age)
    return made


@pytest.fixture
def history():
    """One record of each kind on each side of the retention, named by what should become of it."""
    hook = WebhookFactory()
    old_delivered = event(OLD)
    old_failed = event(OLD)
    old_pending = event(OLD)  # its delivery is still being retried
    old_mixed = event(OLD)  # delivered to one subscription, still pending for another
    other_hook = WebhookFactory()
    records = {
        "old_delivered": old_delivered,
        "old_failed": old_failed,
        "old_pending": old_pending,
        "old_mixed": old_mixed,
        "old_undispatched": event(OLD, dispatched=False),
        "old_unmatched": event(OLD),  # matched no subscription
        "recent_delivered": event(RECENT),
        "delivered_delivery": delivery(hook, old_delivered, "delivered", OLD),
        "failed_delivery": delivery(hook, old_failed, "failed", OLD),
        "pending_delivery": delivery(hook, old_pending, "pending", OLD),
        "mixed_delivered": delivery(hook, old_mixed, "delivered", OLD),
        "mixed_pending": delivery(other_hook, old_mixed, "pending", OLD),
        "unconfirmed_old": email_subscription(OLD, confirmed=False),
        "unconfirmed_recent": email_subscription(RECENT, confirmed=False),
        "confirmed_old": email_subscription(OLD, confirmed=True),
    }
    records["recent_delivery"] = delivery(hook, records["recent_delivered"], "delivered", RECENT)
    # The confirmed reader has read every event (the digest moved its cursor past them).
    EmailSubscription.objects.filter(pk=records["confirmed_old"].pk).update(
        last_event_id=Event.objects.order_by("-pk").values_list("pk", flat=True).first()
    )
    return records


def assert_pruned(history):
    def exists(name):
        record = history[name]
        return type(record).objects.filter(pk=record.pk).exists()

    gone = {"old_delivered", "old_failed", "old_unmatched", "delivered_delivery", "failed_delivery"}
    gone |= {"mixed_delivered", "unconfirmed_old"}
    assert {name for name in history if not exists(name)} == gone
    # The deleted deliveries' attempt log went with them; the kept ones' stays.
    assert DeliveryAttempt.objects.count() == 3


@pytest.mark.django_db
def test_ended_deliveries_and_passed_events_are_pruned_but_never_one_still_waiting(history):
    counts = alerts_prune()
    assert_pruned(history)
    assert (counts["deliveries"], counts["events"], counts["email_subscriptions"]) == (3, 3, 1)
    assert alerts_prune() == dict.fromkeys(counts, 0)  # nothing more on a second run


@pytest.mark.django_db
def test_an_event_a_confirmed_reader_has_not_passed_is_kept(history):
    EmailSubscription.objects.filter(pk=history["confirmed_old"].pk).update(last_event_id=0)
    alerts_prune()
    assert Event.objects.filter(pk=history["old_unmatched"].pk).exists()
    EmailSubscription.objects.filter(pk=history["confirmed_old"].pk).update(
        last_event_id=history["old_unmatched"].pk
    )
    alerts_prune()
    assert not Event.objects.filter(pk=history["old_unmatched"].pk).exists()


@pytest.mark.django_db
def test_the_retention_is_a_setting(history, settings):
    settings.ALERTS_RETENTION_DAYS = 100
    assert sum(alerts_prune().values()) == 0
    settings.ALERTS_RETENTION_DAYS = 30
    alerts_prune()
    assert not Event.objects.filter(pk=history["recent_delivered"].pk).exists()
    assert Event.objects.filter(pk=history["old_pending"].pk).exists()


@pytest.mark.django_db
def test_finished_task_results_and_ended_import_jobs_are_pruned():
    old = timezone.now() - OLD
    finished = pump.enqueue()
    waiting = pump.enqueue()
    DBTaskResult.objects.filter(pk=finished.id).update(status="SUCCESSFUL", finished_at=old)
    for state in ("done", "failed", "previewed", "applying"):
        ImportJob.objects.create(filename=f"{state}.csv", content=b"", sha256="", state=state)
    ImportJob.objects.update(updated_at=old)
    counts = alerts_prune()
    assert [str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)] == [str(waiting.id)]
    assert list(ImportJob.objects.values_list("state", flat=True)) == ["applying"]  # still running
    assert (counts["task_results"], counts["import_jobs"]) == (1, 3)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_sweep_prunes(history):
    WebhookSubscription.objects.update(active=False)  # no POST to the factories' address
    run_worker_once()
    assert_pruned(history)


@pytest.mark.django_db
def test_the_prune_alerts_command_reports_what_it_deleted(history):
    out = io.StringIO()
    call_command("prune_alerts", "--days", "90", stdout=out)
    assert "deliveries: 3, events: 3, email_subscriptions: 1" in out.getvalue()
    assert_pruned(history)
