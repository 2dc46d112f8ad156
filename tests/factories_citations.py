"""Factories and loaders for issue 14 (sources as documents, corrections, error reports)."""

from pathlib import Path

import factory
from django.core.management import call_command

from jurisdictions.models import ErrorReport, Source
from tests.factories import JurisdictionFactory

DATA = Path(__file__).resolve().parents[1] / "data"


class DocumentFactory(factory.django.DjangoModelFactory):
    """A source with its kind, as issue 14 describes documents."""

    class Meta:
        model = Source

    kind = Source.Kind.NEWS_REPORT
    title = factory.Sequence(lambda n: f"Report {n}")
    publisher = "The Daily Example"
    url = factory.Sequence(lambda n: f"https://example.org/report/{n}")


class ErrorReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ErrorReport

    jurisdiction = factory.SubFactory(JurisdictionFactory)
    message = "The letter was sent on another day."


def load_seed():
    """The real seed, as `make run` loads it: its documents, then its rows."""
    call_command("import_sources", str(DATA / "psp_2017_sources.csv"), verbosity=0)
    call_command("import_jurisdictions", str(DATA / "psp_2017.csv"), verbosity=0)
