"""No staff action answers 500: each case that once did is a 201, 400 or 409 naming the field."""

import json
import urllib.error
import urllib.request

import pytest
from django.db.models.signals import pre_save
from django.urls import reverse
from rest_framework.authtoken.models import Token

from jurisdictions import services
from jurisdictions.models import Enrollment, Jurisdiction
from tests.factories import (
    EnrollmentFactory,
    JurisdictionFactory,
    ProgramFactory,
    RequirementFactory,
    StaffUserFactory,
    psp,
)
from tests.problems import detail_of, errors_of
from tests.test_admin import inline_data
from tests.test_api_writes import token_client

DEEP = '{"notes": ' + "[" * 5000 + "]" * 5000 + "}"


@pytest.fixture
def editor(db):
    return token_client(StaffUserFactory(groups=["Editor"]))


def post_json(url, body, token):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def test_creates_answer_201_with_a_location_under_a_real_wsgi_server(live_server, transactional_db):
    """runserver (wsgiref) refuses a header value that is not exactly a str, after the save."""
    # Its own data: an earlier transactional test may have flushed what the migrations created.
    program = ProgramFactory(slug="live")
    RequirementFactory(program=program, code="hold_request")
    token = Token.objects.create(user=StaffUserFactory(is_superuser=True)).key
    status, headers, body = post_json(
        f"{live_server.url}/api/v1/jurisdictions/", {"name": "Memphis", "state": "TN", "kind": "city"}, token
    )
    assert (status, headers["Location"]) == (201, f"{live_server.url}/api/v1/jurisdictions/memphis-tn/")
    status, headers, body = post_json(
        f"{live_server.url}/api/v1/enrollments/", {"jurisdiction": "memphis-tn", "program": "live"}, token
    )
    enrollment = Enrollment.objects.get(jurisdiction__slug="memphis-tn")
    assert (status, headers["Location"]) == (201, f"{live_server.url}/api/v1/enrollments/{enrollment.pk}/")


class TwinCreatedMeanwhile:
    """Another request's insert of the same record, landing between our checks and our insert, so
    that the database's unique constraint refuses ours (bulk_create sends no pre_save, so the twin's
    own insert does not trigger this again)."""

    def __init__(self, model, make):
        self.model, self.make, self.done = model, make, False

    def __call__(self, sender, instance, **kwargs):
        if not self.done and instance.pk is None:
            self.done = True
            self.model.objects.bulk_create([self.make()])

    def __enter__(self):
        pre_save.connect(self, sender=self.model)
        return self

    def __exit__(self, *exc):
        pre_save.disconnect(self, sender=self.model)


def test_a_jurisdiction_create_that_loses_the_race_is_a_409_saying_it_exists(editor):
    twin = TwinCreatedMeanwhile(
        Jurisdiction, lambda: Jurisdiction(name="Memphis", state="TN", slug="memphis-tn")
    )
    with twin:
        response = editor.post("/api/v1/jurisdictions/", {"name": "Memphis", "state": "TN"}, format="json")
    assert twin.done
    assert response.status_code == 409
    assert "exists already" in errors_of(response)["slug"][0]
    # Nothing of this request is saved. (The stand-in twin was inserted inside our insert's
    # savepoint, so it is rolled back with it; a real twin is another request's, committed.)
    assert Jurisdiction.objects.count() == 0


def test_an_enrollment_create_that_loses_the_race_is_a_409_saying_it_exists(editor):
    program = psp()
    memphis = JurisdictionFactory(name="Memphis", state="TN")
    twin = TwinCreatedMeanwhile(Enrollment, lambda: Enrollment(jurisdiction=memphis, program=program))
    with twin:
        response = editor.post(
            "/api/v1/enrollments/", {"jurisdiction": memphis.slug, "program": "psp"}, format="json"
        )
    assert response.status_code == 409
    assert errors_of(response) == {"program": ["“Memphis, TN” is already enrolled in “psp”."]}
    assert Enrollment.objects.count() == 0  # nothing of this request (nor the stand-in twin)


def test_the_service_raises_a_duplicate_record_error_not_an_integrity_error(db):
    with (
        TwinCreatedMeanwhile(
            Jurisdiction, lambda: Jurisdiction(name="Memphis", state="TN", slug="memphis-tn")
        ),
        pytest.raises(services.DuplicateRecordError) as caught,
    ):
        services.jurisdiction_create(user=None, via="api", name="Memphis", state="TN")
    assert list(caught.value.message_dict) == ["slug"]


def test_an_admin_create_that_loses_the_race_says_so_on_the_field(admin_client):
    """Issue 12: the refusal is an error of the field that names the twin, on the form as typed."""
    with TwinCreatedMeanwhile(
        Jurisdiction, lambda: Jurisdiction(name="Memphis", state="TN", slug="memphis-tn")
    ):
        response = admin_client.post(
            reverse("admin:jurisdictions_jurisdiction_add"),
            {
                **{
                    "name": "Memphis",
                    "state": "TN",
                    "kind": "city",
                    "slug": "memphis-tn",
                    "opened_version": 1,
                },
                **{"enrollments-TOTAL_FORMS": 0, "enrollments-INITIAL_FORMS": 0},
            },
        )
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors == {
        "slug": ["A jurisdiction with the slug “memphis-tn” or this GEOID exists already."]
    }
    assert form["name"].value() == "Memphis"  # what was typed is kept
    assert [(line["label"], line["anchor"]) for line in response.context["refusal"]] == [("Slug", "id_slug")]
    assert not list(response.context["messages"])  # no banner besides the form's own
    assert Jurisdiction.objects.count() == 0  # the stand-in twin went with our savepoint (see below)


def test_an_admin_enrollment_create_that_loses_the_race_says_so_on_the_program(admin_client):
    program = psp()
    memphis = JurisdictionFactory(name="Memphis", state="TN")
    with TwinCreatedMeanwhile(Enrollment, lambda: Enrollment(jurisdiction=memphis, program=program)):
        response = admin_client.post(
            reverse("admin:jurisdictions_enrollment_add"),
            {"jurisdiction": memphis.pk, "program": program.pk, "status": "pending"},
        )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "program": ["“Memphis, TN” is already enrolled in “psp”."]
    }
    assert Enrollment.objects.count() == 0


def test_an_admin_enrollment_that_exists_is_refused_on_the_program_in_the_services_words(admin_client):
    existing = EnrollmentFactory(status="pending", jurisdiction=JurisdictionFactory(name="Memphis"))
    response = admin_client.post(
        reverse("admin:jurisdictions_enrollment_add"),
        {"jurisdiction": existing.jurisdiction_id, "program": existing.program_id, "status": "pending"},
    )
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors == {"program": ["“Memphis, TN” is already enrolled in “psp”."]}
    assert not form.non_field_errors()
    assert Enrollment.objects.count() == 1


@pytest.mark.parametrize("method", ["patch", "post"])
def test_deeply_nested_json_is_a_400(editor, method):
    enrollment = EnrollmentFactory()
    url = f"/api/v1/enrollments/{enrollment.pk}/" if method == "patch" else "/api/v1/jurisdictions/"
    response = getattr(editor, method)(url, DEEP, content_type="application/json")
    assert response.status_code == 400
    assert detail_of(response) == "The JSON body is nested too deeply to be read."


@pytest.mark.parametrize("which", ["another enrollment's answer", "no answer at all"])
def test_an_inline_answer_id_that_is_not_this_enrollments_is_a_form_error(admin_client, which):
    enrollment = EnrollmentFactory(status="pending")
    other = EnrollmentFactory(status="pending")
    data = inline_data(enrollment, {}, notes="Mine")
    data["certifications-0-id"] = other.certifications.first().pk if which.startswith("another") else 999999
    response = admin_client.post(reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk]), data)
    assert response.status_code == 200
    assert response.context["errors"]  # the page shows the refused row
    enrollment.refresh_from_db()
    assert (enrollment.notes, enrollment.version) == ("", 1)
