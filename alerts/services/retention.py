"""Retention: what the alerts and the worker keep is deleted ALERTS_RETENTION_DAYS after it stopped
mattering (docs/webhooks.md "Retention"). Run by the worker's sweep (hourly) and by
`manage.py prune_alerts`.

Deleted, when older than the cutoff:
- webhook deliveries that ended (delivered, or given up after the retry window), with their attempt
  log;
- events that were dispatched, have no delivery left and that every confirmed e-mail subscription
  has passed; an event with a pending delivery (in its retry window, or waiting for a paused
  subscription) or not yet dispatched is never deleted, whatever its age;
- e-mail subscriptions never confirmed (the address was never verified: not kept);
- the task queue's finished results (each run of the worker's task leaves one);
- admin import jobs that ended (done, failed, or previewed and never confirmed), with their file.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Min, OuterRef
from django.utils import timezone

from ..models import Delivery, EmailSubscription, Event

CHUNK = 2000  # rows a statement: short transactions, no long lock on the tables the worker uses


def alerts_prune(*, days=None, now=None):
    """Delete what the retention allows; returns {what: rows deleted} (cascades not counted)."""
    days = settings.ALERTS_RETENTION_DAYS if days is None else days
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    deleted = {
        "deliveries": _delete_in_chunks(
            Delivery.objects.filter(
                status__in=[Delivery.Status.DELIVERED, Delivery.Status.FAILED], created_at__lt=cutoff
            )
        ),
        "events": _delete_in_chunks(_prunable_events(cutoff)),
        "email_subscriptions": _delete_in_chunks(
            EmailSubscription.objects.filter(confirmed_at=None, created_at__lt=cutoff)
        ),
        "task_results": _delete_in_chunks(_finished_task_results(cutoff)),
        "import_jobs": _delete_in_chunks(_ended_import_jobs(cutoff)),
    }
    return deleted


def _prunable_events(cutoff):
    events = Event.objects.filter(created_at__lt=cutoff, dispatched_at__isnull=False).exclude(
        Exists(Delivery.objects.filter(event=OuterRef("pk")))
    )
    # The e-mail digests read events after each subscription's cursor: keep what one has not passed.
    oldest_cursor = EmailSubscription.objects.filter(confirmed_at__isnull=False).aggregate(
        m=Min("last_event_id")
    )["m"]
    if oldest_cursor is not None:
        events = events.filter(pk__lte=oldest_cursor)
    return events


def _finished_task_results(cutoff):
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.finished().filter(finished_at__lt=cutoff)


def _ended_import_jobs(cutoff):
    from jurisdictions.models import ImportJob

    return ImportJob.objects.exclude(state__in=ImportJob.RUNNING).filter(updated_at__lt=cutoff)


def _delete_in_chunks(queryset):
    total = 0
    while True:
        with transaction.atomic():
            pks = list(queryset.values_list("pk", flat=True)[:CHUNK])
            if not pks:
                return total
            queryset.model.objects.filter(pk__in=pks).delete()
        total += len(pks)
