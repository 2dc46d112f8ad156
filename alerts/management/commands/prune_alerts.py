"""Delete webhook events and deliveries, e-mail bookkeeping, task results and import jobs older
than the retention (ALERTS_RETENTION_DAYS; alerts/services/retention.py). The worker does the
same every hour; this command is for a cron job or a one-off clean-up."""

from django.conf import settings
from django.core.management.base import BaseCommand

from alerts.services.retention import alerts_prune


class Command(BaseCommand):
    help = "Delete alert and task records older than the retention (ALERTS_RETENTION_DAYS)"

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"Keep this many days instead of ALERTS_RETENTION_DAYS ({settings.ALERTS_RETENTION_DAYS}).",
        )

    def handle(self, *, days, **options):
        if days is not None and days < 1:
            self.stderr.write("--days must be 1 or more.")
            raise SystemExit(2)
        deleted = alerts_prune(days=days)
        self.stdout.write(", ".join(f"{what}: {count}" for what, count in deleted.items()) + " deleted.")
