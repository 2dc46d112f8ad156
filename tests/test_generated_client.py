"""A real generated client (issue 16): openapi-python-client builds a Python package from the live
/api/v1/schema/ at test time (into a temporary folder, never committed), and this test drives the API
through that package, unmodified, against a live server: filters, every page (numbers and the
cursor), a detail, a PATCH with the ETag, and 412, 428 and 429 as typed responses. A schema change
that the generator cannot read, or that changes what a generated client sees, fails here."""

import importlib
import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import caches
from rest_framework.authtoken.models import Token

from psp_tracker.throttles import AnonRateThrottle
from tests.factories import StaffUserFactory, seed_psp_2017

pytestmark = pytest.mark.django_db(transaction=True)  # a live server reads committed data

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
CONFIG = "project_name_override: psp-client\npackage_name_override: psp_client\npost_hooks: []\n"
CALIFORNIA = ["san-bernardino-ca", "stockton-ca"]


@pytest.fixture
def generated(live_server, tmp_path):
    """The generated package, imported from its temporary folder."""
    with urllib.request.urlopen(f"{live_server.url}/api/v1/schema/?format=json", timeout=30) as response:
        (tmp_path / "schema.json").write_bytes(response.read())
    (tmp_path / "config.yaml").write_text(CONFIG)
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            "schema.json",
            "--meta",
            "none",
            "--output-path",
            "psp_client",
            "--config",
            "config.yaml",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = result.stdout + result.stderr
    # The generator skips what it cannot read with a warning; a partner's client would then lack it.
    assert result.returncode == 0 and "Warning" not in output and "Error" not in output, output
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module("psp_client")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name == "psp_client" or name.startswith("psp_client.")]:
            del sys.modules[name]


@pytest.fixture
def migrated_data(db):
    """What the data migrations write (the PSP and its requirements, the roles): a transactional
    test before this one may have flushed it. Both functions only add what is missing."""
    from django.apps import apps

    importlib.import_module("jurisdictions.migrations.0002_psp_program").create_psp(apps, None)
    importlib.import_module("jurisdictions.migrations.0004_roles").create_groups(apps, None)


def module(package, path):
    return importlib.import_module(f"{package.__name__}.{path}")


def test_a_generated_client_lists_walks_reads_and_writes(generated, live_server, migrated_data):
    seed_psp_2017()
    user = StaffUserFactory(username="reviewer", groups=["Reviewer"])
    token = Token.objects.create(user=user).key

    jurisdictions_list = module(generated, "api.jurisdictions.jurisdictions_list")
    jurisdictions_retrieve = module(generated, "api.jurisdictions.jurisdictions_retrieve")
    certifications_retrieve = module(generated, "api.certifications.certifications_retrieve")
    certifications_update = module(generated, "api.certifications.certifications_partial_update")
    models = module(generated, "models")
    anonymous = generated.Client(base_url=live_server.url, raise_on_unexpected_status=True)
    staff = generated.AuthenticatedClient(
        base_url=live_server.url, token=token, prefix="Token", raise_on_unexpected_status=True
    )

    # A filtered list.
    page = jurisdictions_list.sync(
        client=anonymous,
        state=[models.JurisdictionsListStateItem.CA],
        status=[models.JurisdictionsListStatusItem.LETTER_SENT],
    )
    assert isinstance(page, models.PaginatedJurisdictionList)
    assert [j.slug for j in page.results] == CALIFORNIA

    # Every page by number, then the cursor walk: both see all 16 jurisdictions once.
    seen, number = [], 1
    while True:
        page = jurisdictions_list.sync(client=anonymous, page=number, page_size=5)
        seen += [j.slug for j in page.results]
        if not page.next_:
            break
        number += 1
    assert number == 4 and len(seen) == len(set(seen)) == page.count == 16
    walked, cursor = [], ""
    while cursor is not None:
        page = jurisdictions_list.sync(client=anonymous, cursor=cursor, page_size=5)
        walked += [j.slug for j in page.results]
        cursor = parse_qs(urlsplit(page.next_).query)["cursor"][0] if page.next_ else None
    assert sorted(walked) == sorted(seen)

    # A detail, and the answer it links to.
    stockton = jurisdictions_retrieve.sync(client=anonymous, slug="stockton-ca")
    assert isinstance(stockton, models.Jurisdiction) and stockton.state == models.StateEnum.CA
    answer_id = stockton.enrollments[0].certifications[0].url.rstrip("/").rsplit("/", 1)[1]

    # PATCH with the ETag of a GET: 200 and a new ETag.
    read = certifications_retrieve.sync_detailed(client=staff, id=answer_id)
    etag = read.headers["etag"]
    body = models.PatchedCertificationWrite(answer=models.AnswerEnum.YES, citation="General Order 5")
    written = certifications_update.sync_detailed(client=staff, id=answer_id, body=body, if_match=etag)
    assert written.status_code == 200, written.content
    assert isinstance(written.parsed, models.CertificationDetail)
    assert written.parsed.answer == models.AnswerEnum.YES and written.headers["etag"] != etag

    # The old ETag again: 412, as a typed problem.
    stale = certifications_update.sync_detailed(client=staff, id=answer_id, body=body, if_match=etag)
    assert stale.status_code == 412
    assert isinstance(stale.parsed, models.Problem) and stale.parsed.status == 412

    # No precondition (blank If-Match): 428, as a typed problem.
    missing = certifications_update.sync_detailed(client=staff, id=answer_id, body=body, if_match="")
    assert missing.status_code == 428
    assert isinstance(missing.parsed, models.Problem) and missing.parsed.title == "Precondition Required"


def test_a_generated_client_reads_429_as_a_typed_problem(generated, live_server, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "5/minute"})
    caches["throttle"].clear()  # the schema's download counted too
    programs_list = module(generated, "api.programs.programs_list")
    models = module(generated, "models")
    client = generated.Client(base_url=live_server.url, raise_on_unexpected_status=True)
    statuses = [programs_list.sync_detailed(client=client).status_code for _ in range(2)]
    refused = programs_list.sync_detailed(client=client)
    assert statuses == [200, 200] and refused.status_code == 429
    assert isinstance(refused.parsed, models.Problem)
    assert refused.parsed.status == 429 and int(refused.headers["retry-after"]) > 0
    assert json.loads(refused.content)["type"] == "about:blank"
