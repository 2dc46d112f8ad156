import csv
import datetime
import io
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from jurisdictions import services
from jurisdictions.models import StatusChange
from jurisdictions.services.sources import SOURCE_FIELDS


class Command(BaseCommand):
    help = (
        "Describe the documents a data file cites (kind, publisher, date, archived copy, quoted "
        "passage), e.g. data/psp_2017_sources.csv, found by title and URL. Run it before the data "
        "file's import; a file with any bad row writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file (UTF-8) with the columns " + ", ".join(SOURCE_FIELDS))

    def handle(self, *args, path, **options):
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}.") from None
        rows = []
        for number, record in enumerate(csv.DictReader(io.StringIO(text)), start=2):
            values = {f: (record.get(f) or "").strip() for f in SOURCE_FIELDS}
            if values["published_on"]:
                try:
                    values["published_on"] = datetime.date.fromisoformat(values["published_on"])
                except ValueError:
                    raise CommandError(f"{path}: line {number}: published_on: use YYYY-MM-DD.") from None
            else:
                values["published_on"] = None
            rows.append(values)
        try:
            loaded = services.sources_load(rows=rows, user=None, via=StatusChange.Via.IMPORT)
        except ValidationError as exc:
            for message in exc.messages:
                self.stderr.write(f"{path}: {message}")
            raise CommandError(f"Errors in {path}; nothing was imported.") from None
        self.stdout.write(self.style.SUCCESS(f"Described {len(loaded)} documents from {path}."))
