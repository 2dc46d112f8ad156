from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

from jurisdictions.transfer.importer import import_jurisdictions


class Command(BaseCommand):
    help = (
        "Import jurisdictions, enrollments and answers from a CSV file in the export format. "
        "Every row is checked first; a file with any bad row writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file (UTF-8), e.g. data/psp_2017.csv")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and report what would change."
        )

    def handle(self, *args, path, dry_run, **options):
        file = Path(path)
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        report = import_jurisdictions(data, filename=file.name, commit=not dry_run)
        if not report.ok:
            for error in report.errors:
                self.stderr.write(f"{path}: {error}")
            raise CommandError(
                ngettext(
                    "%(count)d error in %(path)s; nothing was imported.",
                    "%(count)d errors in %(path)s; nothing was imported.",
                    len(report.errors),
                )
                % {"count": len(report.errors), "path": path}
            )
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(self.style.SUCCESS(f"{verb} {path}: {report.summary()}."))
