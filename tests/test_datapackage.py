"""The bulk data package (/downloads/) and its codebook (/data/): issue 16."""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

from jurisdictions.cache import bump_data_version
from jurisdictions.models import Certification, Enrollment, Jurisdiction, Source, StatusChange
from jurisdictions.transfer import datapackage
from tests.factories import JurisdictionFactory, seed_psp_2017

pytestmark = pytest.mark.django_db

FILES = ["jurisdictions", "sources", "enrollments", "answers", "status_changes"]


@pytest.fixture
def seed():
    return seed_psp_2017()


def download(client, tmp_path):
    """Save the package as a partner would: datapackage.json and the files it names."""
    response = client.get("/downloads/datapackage.json")
    assert response.status_code == 200
    descriptor = json.loads(response.content)
    (tmp_path / "datapackage.json").write_bytes(response.content)
    for resource in descriptor["resources"]:
        body = b"".join(client.get(f"/downloads/{resource['path']}").streaming_content)
        (tmp_path / resource["path"]).write_bytes(body)
    return descriptor


def test_the_downloaded_package_passes_frictionless_validate(client, seed, tmp_path):
    descriptor = download(client, tmp_path)
    assert [resource["name"] for resource in descriptor["resources"]] == FILES
    result = subprocess.run(
        [str(Path(sys.executable).with_name("frictionless")), "validate", "--json", "datapackage.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(result.stdout)
    assert report["valid"] is True, json.dumps(report["tasks"], indent=1)[:3000]
    assert result.returncode == 0


def test_each_file_holds_every_row_of_its_table(client, seed, tmp_path):
    download(client, tmp_path)
    for name, model in [
        ("jurisdictions", Jurisdiction),
        ("sources", Source),
        ("enrollments", Enrollment),
        ("answers", Certification),
        ("status_changes", StatusChange),
    ]:
        rows = list(csv.DictReader(io.StringIO((tmp_path / f"{name}.csv").read_text())))
        assert [int(row["id"]) for row in rows] == sorted(model.objects.values_list("pk", flat=True)), name

    def rows(name):
        return list(csv.DictReader(io.StringIO((tmp_path / f"{name}.csv").read_text())))

    jurisdictions = {row["slug"]: row for row in rows("jurisdictions")}
    assert jurisdictions["memphis-tn"]["geoid"] == "4748000"
    assert {row["program"] for row in rows("enrollments")} == {"psp"}
    # Who made a change (a staff account) is not published.
    assert "changed_by" not in rows("status_changes")[0]


def test_the_descriptor_gives_type_description_and_allowed_values_from_the_models(db):
    descriptor = datapackage.package_descriptor()
    fields = {
        resource["name"]: {field["name"]: field for field in resource["schema"]["fields"]}
        for resource in descriptor["resources"]
    }
    assert fields["enrollments"]["status"]["constraints"]["enum"] == list(Enrollment.Status.values)
    assert fields["answers"]["answer"]["constraints"]["enum"] == list(Certification.Answer.values)
    assert fields["jurisdictions"]["geoid"]["description"] == str(
        Jurisdiction._meta.get_field("geoid").help_text
    )
    assert fields["enrollments"]["joined_on"]["type"] == "date"
    assert fields["status_changes"]["changed_at"]["type"] == "datetime"
    assert all(field["description"] for table in fields.values() for field in table.values())
    foreign = descriptor["resources"][2]["schema"]["foreignKeys"]
    assert {
        "fields": ["jurisdiction_id"],
        "reference": {"resource": "jurisdictions", "fields": ["id"]},
    } in foreign
    assert descriptor["licenses"][0]["name"]


def test_a_new_model_field_appears_in_the_package_without_changes_here(db, monkeypatch):
    from django.db import models

    extra = models.CharField(max_length=7, name="nickname", help_text="What locals call it.")
    extra.set_attributes_from_name("nickname")
    monkeypatch.setattr(
        Jurisdiction._meta, "concrete_fields", (*Jurisdiction._meta.concrete_fields, extra), raising=False
    )
    table = datapackage.table_named("jurisdictions")
    described = {column.name: column.descriptor for column in datapackage.columns(table)}
    assert described["nickname"]["description"] == "What locals call it."
    assert described["nickname"]["constraints"]["maxLength"] == 7


def test_the_package_lists_the_sources_cited(client, seed):
    descriptor = client.get("/downloads/datapackage.json").json()
    assert sorted(source["title"] for source in descriptor["sources"]) == sorted(
        str(source) for source in Source.objects.all()
    )


def test_files_carry_an_etag_that_changes_with_the_data(client, seed):
    first = client.get("/downloads/enrollments.csv")
    etag = first["ETag"]
    assert client.get("/downloads/enrollments.csv", headers={"If-None-Match": etag}).status_code == 304
    package = client.get("/downloads/datapackage.json")
    assert (
        client.get("/downloads/datapackage.json", headers={"If-None-Match": package["ETag"]}).status_code
        == 304
    )
    JurisdictionFactory(name="Newtown", state="CT")
    bump_data_version()  # what the write's commit does (db/watch.py); tests run in one transaction
    again = client.get("/downloads/enrollments.csv", headers={"If-None-Match": etag})
    assert again.status_code == 200 and again["ETag"] != etag
    assert client.get("/downloads/nothing.csv").status_code == 404


def test_the_downloads_page_and_the_codebook_explain_every_column(client, seed):
    page = client.get("/downloads/").content.decode()
    for name in FILES:
        assert f'href="/downloads/{name}.csv"' in page
    codebook = client.get("/data/").content.decode()
    for resource in datapackage.package_descriptor()["resources"]:
        for field in resource["schema"]["fields"]:
            assert f"<code>{field['name']}</code>" in codebook
    assert "<code>letter_sent</code>: Letter sent" in codebook
    footer = client.get("/").content.decode()
    assert 'href="/downloads/"' in footer and 'href="/data/"' in footer


def test_package_csv_downloads_count_against_the_csv_rate(seed):
    with override_settings(PUBLIC_CSV_RATE="2/minute"):
        fresh = Client()  # the middleware reads the rate when it is built
        codes = [fresh.get("/downloads/sources.csv").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
