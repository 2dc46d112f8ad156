"""The tasks the worker runs (django-tasks, database backend). Each is safe to run twice: the state
lives in our own tables (events, deliveries, cursors), the task is only a nudge."""

import logging

from django.db.models import Q
from django.utils import timezone
from django_tasks import task

logger = logging.getLogger("alerts")
PUMP_PATH = "alerts.tasks.pump"


@task()
def pump():
    """Dispatch new events, send due webhook deliveries and e-mail digests; then schedule itself
    for the earliest retry, unless such a run is already queued."""
    from .services import email, webhooks

    webhooks.events_dispatch()
    webhooks.deliveries_send_due()
    email.confirmations_send()
    email.digests_send()
    schedule_retry(webhooks.next_retry_at())


def schedule_retry(at):
    if at is None:
        return
    from django_tasks_db.models import DBTaskResult, get_date_max

    queued = DBTaskResult.objects.filter(task_path=PUMP_PATH, status="READY")
    # A run_after of "the maximum date" is the backend's mark for "as soon as possible".
    if queued.filter(Q(run_after__lte=at) | Q(run_after=get_date_max())).exists():
        return
    pump.using(run_after=max(at, timezone.now())).enqueue()
