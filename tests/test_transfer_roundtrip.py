"""The CSV carries the whole record: an export re-imports into an empty database and re-exports
byte-identical, answers' details (not_applicable with who runs the facility) and sources included."""

import datetime

import pytest
from django.db import connection

from jurisdictions.models import Certification, Enrollment, Jurisdiction, Source, StatusChange
from jurisdictions.transfer import csvio
from jurisdictions.transfer.importer import import_jurisdictions
from tests.factories import EnrollmentFactory, JurisdictionFactory, SourceFactory, psp

pytestmark = pytest.mark.django_db


def python_export():
    rows = csvio.iter_export_rows(Jurisdiction.objects.order_by("name"))
    return "".join(csvio.iter_csv_lines(rows))


def every_answer_value():
    program = psp()
    article = SourceFactory(title="Seed article", publisher="Paper", url="https://example.org/a")
    statute = SourceFactory(title="State code, title 5", url="https://example.org/code", published_on=None)
    memphis = EnrollmentFactory(
        jurisdiction=JurisdictionFactory(name="Memphis", state="TN", geoid="4748000"),
        program=program,
        status="letter_sent",
        letter_sent_on=datetime.date(2017, 8, 3),
        source=article,
        notes="=not a formula",
    )
    values = {
        "facility_access": {
            "answer": "not_applicable",
            "facility_operator": "Shelby County Sheriff, jail division",
            "legal_basis": "statute",
            "citation": "Tenn. Code § 41-4-101",
            "evidence_url": "https://example.org/evidence?a=1",
            "certified_by": 'Chief "M" Rallings',
            "certified_on": datetime.date(2017, 8, 10),
            "source": statute,
        },
        "release_notice": {"answer": "no", "legal_basis": "policy", "citation": "-Policy 7"},
        "hold_request": {"answer": "unknown"},
    }
    for code, fields in values.items():
        Certification.objects.filter(enrollment=memphis, requirement__code=code).update(**fields)
    EnrollmentFactory(
        jurisdiction=JurisdictionFactory(name="Jackson", state="TN", geoid="4737640"),
        program=program,
        status="participating",
        joined_on=datetime.date(2017, 6, 20),
        site_type="diagnostic",
        source=article,
    )
    Certification.objects.filter(enrollment__jurisdiction__name="Jackson").update(
        certified_by="Mayor", certified_on=datetime.date(2017, 6, 1)
    )
    JurisdictionFactory(name="Shelby County", kind="county", geoid="47157")


def empty_the_database():
    StatusChange.objects.all().delete()
    Certification.objects.all().delete()
    Enrollment.objects.all().delete()
    Jurisdiction.objects.all().delete()
    Source.objects.filter(programs=None).delete()  # the program's own source is not in the file


def test_an_export_with_every_answer_value_reimports_into_an_empty_database_byte_identical():
    every_answer_value()
    first = python_export()
    assert "not_applicable" in first and "Shelby County Sheriff" in first and "State code, title 5" in first
    empty_the_database()
    report = import_jurisdictions(first.encode(), filename="export.csv")
    assert report.ok, [str(e) for e in report.errors]
    assert report.counts() == {"new": 3, "changed": 0, "unchanged": 0}
    assert python_export() == first
    answer = Certification.objects.get(
        enrollment__jurisdiction__name="Memphis", requirement__code="facility_access"
    )
    assert (answer.answer, answer.facility_operator, answer.source.title) == (
        "not_applicable",
        "Shelby County Sheriff, jail division",
        "State code, title 5",
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the database writes the CSV on PostgreSQL only"
)
def test_the_export_written_by_postgresql_round_trips_too():
    every_answer_value()
    first = csvio.export_csv_text(Jurisdiction.objects.order_by("name"))
    assert first == python_export()
    empty_the_database()
    assert import_jurisdictions(first.encode()).ok
    assert csvio.export_csv_text(Jurisdiction.objects.order_by("name")) == first


def test_reimporting_the_export_into_the_same_database_changes_nothing():
    every_answer_value()
    first = python_export()
    report = import_jurisdictions(first.encode())
    assert report.counts() == {"new": 0, "changed": 0, "unchanged": 3}


def test_an_answer_detail_is_changed_by_its_column_and_a_blank_answer_keeps_everything():
    every_answer_value()
    text = python_export().replace("Tenn. Code § 41-4-101", "Tenn. Code § 41-4-102")
    report = import_jurisdictions(text.encode())
    assert [(r.slug, r.changes) for r in report.rows if r.action == "changed"] == [
        ("memphis-tn", ["facility_access"])
    ]
    answer = Certification.objects.get(
        enrollment__jurisdiction__name="Memphis", requirement__code="facility_access"
    )
    assert (answer.citation, answer.version) == ("Tenn. Code § 41-4-102", 2)


def test_not_applicable_without_who_runs_the_facility_is_a_row_error():
    psp()
    header = "name,state,kind,program,status,facility_access,facility_access_operator\n"
    report = import_jurisdictions((header + "Memphis,TN,city,psp,pending,not_applicable,\n").encode())
    assert [(e.line, e.column) for e in report.errors] == [(2, "facility_access_operator")]
    assert "runs the facility" in report.errors[0].message
    assert Jurisdiction.objects.count() == 0


def test_details_without_their_answer_are_a_row_error():
    psp()
    header = "name,state,kind,program,status,facility_access,facility_access_citation\n"
    report = import_jurisdictions((header + "Memphis,TN,city,psp,pending,,Code 5\n").encode())
    assert [(e.line, e.column) for e in report.errors] == [(2, "facility_access_citation")]


def test_a_blank_detail_cell_clears_the_stored_detail_and_an_old_file_keeps_it():
    every_answer_value()
    text = python_export().replace("'-Policy 7", "")  # exported with its formula guard
    report = import_jurisdictions(text.encode())
    assert [(r.slug, r.changes) for r in report.rows if r.action == "changed"] == [
        ("memphis-tn", ["release_notice"])
    ]
    release = Certification.objects.get(
        enrollment__jurisdiction__name="Memphis", requirement__code="release_notice"
    )
    assert (release.citation, release.legal_basis) == ("", "policy")

    old_format = "slug,name,state,kind,program,status,facility_access\nmemphis-tn,Memphis,TN,city,psp,letter_sent,not_applicable\n"
    report = import_jurisdictions(old_format.encode())
    assert report.ok, [str(e) for e in report.errors]
    facility = Certification.objects.get(
        enrollment__jurisdiction__name="Memphis", requirement__code="facility_access"
    )
    assert (facility.facility_operator, facility.citation) == (
        "Shelby County Sheriff, jail division",
        "Tenn. Code § 41-4-101",
    )


def test_the_seed_file_of_2017_still_imports():
    from pathlib import Path

    psp()
    report = import_jurisdictions(Path("data/psp_2017.csv").read_bytes(), filename="psp_2017.csv")
    assert report.ok, [str(e) for e in report.errors]
    assert report.counts()["new"] == 16


def test_the_same_bad_detail_on_two_rows_is_reported_on_both():
    psp()
    header = "name,state,kind,program,status,facility_access,facility_access_evidence_url\n"
    rows = "Memphis,TN,city,psp,pending,yes,ftp://example.org/a\nJackson,TN,city,psp,pending,yes,ftp://example.org/a\n"
    report = import_jurisdictions((header + rows).encode())
    assert [(e.line, e.column) for e in report.errors] == [
        (2, "facility_access_evidence_url"),
        (3, "facility_access_evidence_url"),
    ]
    assert "http:// or https://" in report.errors[1].message
