"""The worker: django-tasks-db's `db_worker` (same options), plus

- a sweep every `--sweep` seconds that queues the delivery task when events wait undispatched or
  deliveries are due, so nothing depends on an enqueue that was lost (a crash between a commit
  and its on_commit, a worker restart mid-task), and does the same for admin import jobs
  (jurisdictions/services/imports.py `import_jobs_recover`);
- pruning, once an hour, what is older than the retention (alerts/services/retention.py);
- staying up while the database is away: a connection error is logged, the connections are
  dropped, and the loop tries again after a pause (a PostgreSQL restart does not end the worker).

`--batch` runs what is queued (after one sweep) and exits: the tests' run-once mode.
"""

import contextlib
import logging
import signal
import time

from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker

logger = logging.getLogger("alerts")


class _QuietBatchEnd(logging.Filter):
    """The parent logs the start and end of each batch pass; in this loop that would be two lines a
    second. The start is logged once, by `SweepingWorker.run`."""

    def filter(self, record):
        return not str(record.msg).startswith(("No more tasks to run", "Starting worker"))


logging.getLogger("django_tasks_db").addFilter(_QuietBatchEnd())
RECONNECT_PAUSE = 2.0
PRUNE_INTERVAL = 3600.0


def sweep():
    """Queue the delivery task when there is work and none is queued."""
    from django.db.models import Q
    from django.utils import timezone

    from alerts.models import Delivery, EmailSubscription, Event
    from alerts.tasks import schedule_retry
    from jurisdictions.services.imports import import_jobs_recover

    now = timezone.now()
    work = (
        Event.objects.filter(dispatched_at=None).exists()
        or Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now).exists()
        or EmailSubscription.objects.filter(
            Q(confirmed_at__isnull=False) | Q(confirmation_sent_at=None)
        ).exists()
    )
    if work:
        schedule_retry(now)
    import_jobs_recover(now=now)
    return work


class SweepingWorker(Worker):
    def __init__(self, *, sweep_interval, **kwargs):
        super().__init__(**kwargs)
        self.sweep_interval = sweep_interval
        self.last_sweep = 0.0
        self.last_prune = None

    def run(self):
        logger.info(
            "Worker %s: queues %s, sweep every %s s.",
            self.worker_id,
            ",".join(self.queue_names),
            self.sweep_interval,
        )
        while self.running:
            try:
                if time.monotonic() - self.last_sweep >= self.sweep_interval:
                    close_old_connections()
                    sweep()
                    self.last_sweep = time.monotonic()
                    if self.last_prune is None or self.last_sweep - self.last_prune >= PRUNE_INTERVAL:
                        self.prune()
                    if self.batch:
                        self.sweep_interval = float("inf")  # once per batch run
                if self.batch:
                    return super().run()
                # One pass of the parent's loop at a time, so that sweeps interleave with tasks.
                self.batch_once()
            except (OperationalError, InterfaceError) as exc:
                logger.warning("Database unavailable (%s); retrying in %.0f s.", exc, RECONNECT_PAUSE)
                for connection in connections.all():
                    connection.close_if_unusable_or_obsolete()
                    with contextlib.suppress(Exception):
                        connection.close()
                time.sleep(RECONNECT_PAUSE)

    def prune(self):
        from alerts.services.retention import alerts_prune

        deleted = alerts_prune()
        self.last_prune = time.monotonic()
        if any(deleted.values()):
            logger.info("Pruned past the retention: %s.", deleted)

    def batch_once(self):
        """Run queued tasks until none is ready, then wait one interval (the parent's batch loop)."""
        self.batch, self.startup_delay = True, False
        try:
            super().run()
        finally:
            self.batch = False
        if self.running:
            time.sleep(self.interval)


class Command(DbWorkerCommand):
    help = "Run the task worker (db_worker) with a periodic sweep for lost deliveries"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--sweep", type=float, default=30.0, help="Seconds between sweeps for work (default: 30)."
        )

    def handle(self, *, sweep, **options):
        import django_tasks_db.management.commands.db_worker as db_worker

        # The parent builds its Worker by name; give it ours, carrying the sweep interval.
        original = db_worker.Worker
        db_worker.Worker = lambda **kwargs: SweepingWorker(sweep_interval=sweep, **kwargs)
        # The worker installs its own SIGINT/SIGTERM handlers; put the caller's back when it
        # returns (the run-once mode is also called in-process, by the tests).
        handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            return super().handle(**options)
        finally:
            db_worker.Worker = original
            for number, handler in handlers.items():
                signal.signal(number, handler)
