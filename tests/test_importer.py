import csv
import io

import pytest
from django.core.management import CommandError, call_command

from jurisdictions.models import Certification, Enrollment, Jurisdiction, Source, StatusChange
from jurisdictions.transfer.csvio import export_csv_text
from jurisdictions.transfer.importer import import_jurisdictions
from tests.factories import EnrollmentFactory, JurisdictionFactory

pytestmark = pytest.mark.django_db

HEADER = [
    "slug",
    "name",
    "state",
    "kind",
    "geoid",
    "ocd_id",
    "program",
    "status",
    "site_type",
    "letter_sent_on",
    "response_due_on",
    "joined_on",
    "facility_access",
    "release_notice",
    "hold_request",
    "notes",
    "source_title",
    "source_publisher",
    "source_url",
    "source_date",
]


def row(**cells):
    base = {
        "name": "Memphis",
        "state": "TN",
        "kind": "city",
        "geoid": "4748000",
        "program": "psp",
        "status": "participating",
        "site_type": "operations",
        "joined_on": "2017-06-20",
        "facility_access": "yes",
        "release_notice": "yes",
        "hold_request": "yes",
        "source_title": "Seed article",
        "source_publisher": "Publisher",
    }
    base.update(cells)
    return base


def make_csv(*rows, header=HEADER):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: v for k, v in r.items() if k in header})
    return out.getvalue().encode()


GOOD = make_csv(
    row(),
    row(name="Jackson", geoid="4737640", site_type="diagnostic"),
    row(
        name="Stockton",
        state="CA",
        geoid="0675000",
        status="letter_sent",
        site_type="",
        joined_on="",
        letter_sent_on="2017-08-03",
        response_due_on="2017-08-18",
        facility_access="unknown",
        release_notice="unknown",
        hold_request="unknown",
    ),
)


def snapshot():
    return (
        Jurisdiction.objects.count(),
        Enrollment.objects.count(),
        Certification.objects.count(),
        StatusChange.objects.count(),
        Jurisdiction.history.count(),
        Source.objects.count(),
    )


def test_a_valid_file_is_imported_with_answers_and_history():
    report = import_jurisdictions(GOOD, filename="good.csv")
    assert report.ok and report.applied
    assert report.counts() == {"new": 3, "changed": 0, "unchanged": 0}
    memphis = Jurisdiction.objects.get(slug="memphis-tn")
    assert (memphis.geoid, memphis.kind) == ("4748000", "city")
    stockton = Enrollment.objects.get(jurisdiction__slug="stockton-ca")
    assert stockton.status == "letter_sent"
    assert str(stockton.letter_sent_on) == "2017-08-03"
    assert Jurisdiction.objects.get(slug="stockton-ca").geoid == "0675000"
    assert set(stockton.certifications.values_list("answer", flat=True)) == {"unknown"}
    assert (
        Certification.objects.filter(enrollment__jurisdiction__slug="memphis-tn", answer="yes").count() == 3
    )
    steps = StatusChange.objects.filter(enrollment__jurisdiction__slug="memphis-tn")
    assert [(s.from_status, s.to_status, s.via, str(s.effective_on)) for s in steps] == [
        ("", "participating", "import", "2017-06-20")
    ]
    assert memphis.history.get().history_via == "import"


def test_running_the_same_file_twice_changes_nothing():
    import_jurisdictions(GOOD, filename="good.csv")
    before = snapshot()
    report = import_jurisdictions(GOOD, filename="good.csv")
    assert report.counts() == {"new": 0, "changed": 0, "unchanged": 3}
    assert snapshot() == before


def test_a_status_change_is_recorded_in_the_history():
    import_jurisdictions(GOOD)
    admitted = make_csv(
        row(
            name="Stockton",
            state="CA",
            geoid="0675000",
            site_type="",
            letter_sent_on="2017-08-03",
            response_due_on="2017-08-18",
            joined_on="2017-10-01",
        )
    )
    report = import_jurisdictions(admitted)
    assert report.rows[0].action == "changed"
    assert "status" in report.rows[0].changes
    step = StatusChange.objects.filter(enrollment__jurisdiction__slug="stockton-ca").first()
    assert (step.from_status, step.to_status) == ("letter_sent", "participating")


def test_import_is_matched_on_slug_so_jackson_tn_and_ms_stay_apart():
    JurisdictionFactory(name="Jackson", state="MS", geoid="2836000")
    import_jurisdictions(GOOD)
    assert sorted(Jurisdiction.objects.filter(name="Jackson").values_list("slug", "geoid")) == [
        ("jackson-ms", "2836000"),
        ("jackson-tn", "4737640"),
    ]


BAD_ROWS = [
    ({"state": "ZZ"}, "state", "not a USPS state"),
    ({"kind": "planet"}, "kind", "not a kind"),
    ({"status": "admitted"}, "status", "not a status"),
    ({"joined_on": "20/06/2017"}, "joined_on", "not a date"),
    ({"joined_on": "2017-02-30"}, "joined_on", "not a date"),
    ({"program": "nope"}, "program", "No program"),
    ({"hold_request": "no"}, "status", "1 requirement is not yet: “Honor a written DHS request"),
    ({"release_notice": "perhaps"}, "release_notice", "not an answer"),
    ({"geoid": "47-48"}, "geoid", "GEOID"),
    ({"ocd_id": "memphis"}, "ocd_id", "Open Civic Data"),
    ({"site_type": "hq"}, "site_type", "not a site type"),
    ({"name": ""}, "name", "required"),
    ({"slug": "Memphis TN!"}, "slug", "not a slug"),
    ({"letter_sent_on": "2017-08-03", "response_due_on": "2017-08-01"}, "response_due_on", "before"),
    ({"source_url": "javascript:alert(1)"}, "source_url", "web address"),
    ({"source_title": "", "source_url": "https://example.org"}, "source_title", "needs a title"),
    ({"program": "", "status": "participating"}, "program", "must name its program"),
    ({"name": "x" * 201}, "name", "at most 200 characters (it has 201)"),
    ({"notes": "x" * 10_001}, "notes", "at most 10000 characters"),
]


@pytest.mark.parametrize(("cells", "column", "message"), BAD_ROWS)
def test_a_bad_row_is_reported_with_its_line_and_nothing_is_written(cells, column, message):
    data = make_csv(row(name="Buffalo", state="NY", geoid="3611000"), row(**cells))
    before = snapshot()
    report = import_jurisdictions(data)
    assert not report.applied
    assert [(e.line, e.column) for e in report.errors] == [(3, column)]
    assert message in report.errors[0].message
    assert snapshot() == before


def test_duplicate_rows_and_a_taken_geoid_are_errors():
    JurisdictionFactory(name="Other", geoid="4748000")
    report = import_jurisdictions(make_csv(row(), row(name="Germantown", geoid="4748000")))
    assert [(e.line, e.column) for e in report.errors] == [(2, "geoid"), (3, "geoid")]
    assert "belongs to “other-tn”" in report.errors[0].message
    report = import_jurisdictions(make_csv(row(geoid="4748001"), row(geoid="4748001")))
    assert [(e.line, e.column) for e in report.errors] == [(3, "program")]
    assert "listed in program “psp” twice" in report.errors[0].message


def test_every_bad_row_is_reported_not_only_the_first():
    report = import_jurisdictions(
        make_csv(row(state="ZZ"), row(name="Ok", geoid="4700011"), row(name="Bad", kind="x", geoid="22"))
    )
    assert [(e.line, e.column) for e in report.errors] == [(2, "state"), (4, "kind")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        ("name,state,kind\nS\xe3o Paulo,TN,city\n".encode("latin-1"), "not UTF-8"),
        (b"name,state,kind,colour\nA,TN,city,red\n", "Unknown column"),
        (b"name,state\nA,TN\n", "required column is missing"),
        (b"name,state,kind\n", "no rows"),
        (b"name,state,kind\nA,TN\n", "Expected 3 cells"),
        (b"name,name,state,kind\nA,A,TN,city\n", "more than once"),
        (b"name,state,kind\nA\x00,TN,city\n", "NUL"),
    ],
)
def test_a_malformed_file_is_refused_with_a_reason(data, message):
    report = import_jurisdictions(data)
    assert not report.applied
    assert message in str(report.errors[0])
    assert Jurisdiction.objects.count() == 0


def test_a_jurisdiction_row_without_program_imports_identity_only():
    header = ["name", "state", "kind", "geoid"]
    report = import_jurisdictions(
        make_csv({"name": "Shelby County", "state": "TN", "kind": "county", "geoid": "47157"}, header=header)
    )
    assert report.ok
    county = Jurisdiction.objects.get()
    assert (county.slug, county.kind, county.enrollments.count()) == ("shelby-county-tn", "county", 0)


def test_blank_answer_cells_keep_stored_answers():
    enrollment = EnrollmentFactory(
        jurisdiction=JurisdictionFactory(name="Lansing", state="MI"), answers={"facility_access": "yes"}
    )
    header = ["slug", "name", "state", "kind", "program", "status", "facility_access"]
    report = import_jurisdictions(
        make_csv(
            {
                "slug": "lansing-mi",
                "name": "Lansing",
                "state": "MI",
                "kind": "city",
                "program": "psp",
                "status": "pending",
                "facility_access": "",
            },
            header=header,
        )
    )
    assert report.ok
    assert enrollment.certifications.get(requirement__code="facility_access").answer == "yes"


def test_an_export_reimports_unchanged_including_formula_like_text():
    import_jurisdictions(GOOD)
    Enrollment.objects.filter(jurisdiction__slug="memphis-tn").update(notes='=HYPERLINK("http://x")')
    exported = export_csv_text(Jurisdiction.objects.order_by("name"))
    assert "'=HYPERLINK" in exported
    before = snapshot()
    report = import_jurisdictions(exported.encode())
    assert report.counts() == {"new": 0, "changed": 0, "unchanged": 3}
    assert snapshot() == before
    assert Enrollment.objects.get(jurisdiction__slug="memphis-tn").notes == '=HYPERLINK("http://x")'


DETAILS = [
    "operator",
    "legal_basis",
    "citation",
    "evidence_url",
    "certified_by",
    "certified_on",
    "basis",  # issue 14: certified or reported
    "source_title",
    "source_publisher",
    "source_url",
    "source_date",
    # Issue 14: a second document that says the same.
    "second_source_title",
    "second_source_publisher",
    "second_source_url",
    "second_source_date",
]


def test_export_writes_the_importer_columns_with_each_answers_details():
    import_jurisdictions(GOOD)
    lines = export_csv_text(Jurisdiction.objects.order_by("name")).splitlines()
    codes = ["facility_access", "release_notice", "hold_request"]
    expected = HEADER[:12]
    for code in codes:
        expected += [code, *(f"{code}_{suffix}" for suffix in DETAILS)]
    site_type_source = ["site_type_source_title", "site_type_source_publisher"]
    site_type_source += ["site_type_source_url", "site_type_source_date"]  # issue 14
    assert lines[0].split(",") == expected + HEADER[15:] + site_type_source
    assert len(lines) == 4


def test_dry_run_reports_without_writing():
    report = import_jurisdictions(GOOD, commit=False)
    assert report.ok and not report.applied
    assert report.counts()["new"] == 3
    assert Jurisdiction.objects.count() == 0


def test_the_command_names_the_bad_line_and_exits_non_zero(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(make_csv(row(), row(name="Toledo", state="OH", geoid="3977000", joined_on="soon")))
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_jurisdictions", str(path))
    assert "line 3, column joined_on" in capsys.readouterr().err
    assert Jurisdiction.objects.count() == 0


def test_the_command_imports_a_good_file(tmp_path, capsys):
    path = tmp_path / "good.csv"
    path.write_bytes(GOOD)
    call_command("import_jurisdictions", str(path))
    assert "3 new, 0 changed, 0 unchanged" in capsys.readouterr().out
    assert Jurisdiction.objects.count() == 3


def test_the_command_reports_a_missing_file():
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_jurisdictions", "/nonexistent/file.csv")


def _tables_with_statistics(models):
    from django.db import connection

    tables = [m._meta.db_table for m in models]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT DISTINCT tablename FROM pg_stats WHERE tablename = ANY(%s)", [tables])
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'",
            )
            if cursor.fetchone() is None:
                return set()
            cursor.execute(
                f"SELECT DISTINCT tbl FROM sqlite_stat1 WHERE tbl IN ({', '.join(['%s'] * len(tables))})",
                tables,
            )
        return {name for (name,) in cursor.fetchall()}


def test_a_bulk_import_leaves_planner_statistics_on_the_tables_it_loaded(monkeypatch):
    from jurisdictions.transfer import apply

    models = (Jurisdiction, Enrollment, Certification)
    assert _tables_with_statistics(models) == set()
    monkeypatch.setattr(apply, "ANALYZE_AFTER_ROWS", 3)  # the three rows of GOOD count as a bulk load
    assert import_jurisdictions(GOOD).applied
    assert _tables_with_statistics(models) == {m._meta.db_table for m in models}


def test_a_small_import_leaves_statistics_to_autovacuum():
    models = (Jurisdiction, Enrollment, Certification)
    assert import_jurisdictions(GOOD).applied
    assert _tables_with_statistics(models) == set()


def test_the_import_command_counts_the_errors_in_good_english(tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "bad.csv"
    path.write_text("name,state\nMemphis,ZZ\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"^1 error in .*bad\.csv; nothing was imported\.$"):
        call_command("import_jurisdictions", str(path))
