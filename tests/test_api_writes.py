"""Staff writes through the API: the admin's rule, roles, history and version checks."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jurisdictions.models import Certification, Enrollment, Jurisdiction, Source, StatusChange
from tests.factories import EnrollmentFactory, JurisdictionFactory, StaffUserFactory
from tests.problems import detail_of, errors_of

pytestmark = pytest.mark.django_db


class ReadThenWriteClient(APIClient):
    """A staff client doing what the docs ask: GET the resource, then PATCH with its ETag as
    If-Match (unless the test sends its own If-Match, or none with `patch_without_if_match`)."""

    def patch(self, path, data=None, format=None, content_type=None, follow=False, **extra):
        if "HTTP_IF_MATCH" not in extra:
            read = self.get(path, HTTP_ACCEPT="application/json")
            if read.status_code == 200:
                extra["HTTP_IF_MATCH"] = read["ETag"]
        return super().patch(path, data, format, content_type, follow, **extra)

    def patch_without_if_match(self, path, data=None, **extra):
        return super().patch(path, data, format="json", **extra)


def token_client(user):
    client = ReadThenWriteClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    client.user = user
    return client


@pytest.fixture
def editor():
    return token_client(StaffUserFactory(groups=["Editor"]))


@pytest.fixture
def reviewer():
    return token_client(StaffUserFactory(groups=["Reviewer"]))


@pytest.fixture
def stockton():
    return EnrollmentFactory(
        status="letter_sent",
        jurisdiction=JurisdictionFactory(name="Stockton", state="CA"),
        letter_sent_on="2017-08-03",
        response_due_on="2017-08-18",
    )


def enrollment_url(enrollment):
    return f"/api/v1/enrollments/{enrollment.pk}/"


def certification_url(certification):
    return f"/api/v1/certifications/{certification.pk}/"


def test_a_reviewer_takes_stockton_to_participating_through_the_urls_of_the_payload(reviewer, stockton):
    payload = reviewer.get("/api/v1/jurisdictions/stockton-ca/").json()
    (enrollment,) = payload["enrollments"]
    assert enrollment["url"].endswith(enrollment_url(stockton))

    refused = reviewer.patch(enrollment["url"], {"status": "participating"}, format="json")
    assert refused.status_code == 400
    assert errors_of(refused) == {
        "status": [
            "Status cannot be participating until every requirement is answered yes; 3 requirements "
            "are not yet: “DHS access to correctional and detention facilities to meet people held "
            "there”, “At least 48 hours' notice of a release, where possible, when DHS asks”, “Honor "
            "a written DHS request to hold a person up to 48 hours past release”."
        ]
    }

    for certification in enrollment["certifications"]:
        response = reviewer.patch(
            certification["url"],
            {
                "answer": "yes",
                "legal_basis": "policy",
                "citation": "General Order 5",
                "evidence_url": "https://example.org/order-5",
                "certified_by": "Chief of Police",
                "certified_on": "2017-10-01",
            },
            format="json",
        )
        assert response.status_code == 200
        assert (response.json()["answer"], response.json()["version"]) == ("yes", 2)

    response = reviewer.patch(
        enrollment["url"], {"status": "participating", "joined_on": "2017-10-02"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["joined_on"], response.json()["version"]) == (
        "participating",
        "2017-10-02",
        2,
    )
    step = StatusChange.objects.get()
    assert (step.from_status, step.to_status, step.changed_by, step.via) == (
        "letter_sent",
        "participating",
        reviewer.user,
        "api",
    )


def test_every_api_write_is_in_the_history_with_its_user_and_the_api_door(reviewer, stockton):
    hold = stockton.certifications.get(requirement__code="hold_request")
    reviewer.patch(certification_url(hold), {"answer": "no"}, format="json")
    reviewer.patch(enrollment_url(stockton), {"notes": "Declined the hold request."}, format="json")
    created = reviewer.post(
        "/api/v1/jurisdictions/", {"name": "Jackson", "state": "MS", "kind": "city"}, format="json"
    )
    assert created.status_code == 201
    rows = [
        Certification.history.filter(id=hold.pk).latest(),
        Enrollment.history.filter(id=stockton.pk).latest(),
        Jurisdiction.history.get(slug="jackson-ms"),
    ]
    assert [(r.history_type, r.history_user, r.history_via) for r in rows] == [
        ("~", reviewer.user, "api"),
        ("~", reviewer.user, "api"),
        ("+", reviewer.user, "api"),
    ]
    assert rows[0].prev_record.answer == "unknown"


def test_an_editor_cannot_admit_through_the_api(editor, stockton):
    stockton.certifications.update(answer="yes")
    response = editor.patch(enrollment_url(stockton), {"status": "participating"}, format="json")
    assert response.status_code == 403
    assert detail_of(response) == (
        "Only reviewers can set an enrollment to participating; ask a reviewer to admit it."
    )
    stockton.refresh_from_db()
    assert (stockton.status, stockton.version) == ("letter_sent", 1)


def test_an_editor_records_answers_and_letters(editor, stockton):
    hold = stockton.certifications.get(requirement__code="hold_request")
    assert editor.patch(certification_url(hold), {"answer": "yes"}, format="json").status_code == 200
    response = editor.patch(
        enrollment_url(stockton),
        {"status": "pending", "letter_sent_on": None, "response_due_on": None},
        format="json",
    )
    assert response.status_code == 200
    assert StatusChange.objects.get().changed_by == editor.user


def test_anonymous_clients_and_partner_tokens_cannot_write(client, stockton):
    partner = token_client(StaffUserFactory(is_staff=False))
    hold = stockton.certifications.get(requirement__code="hold_request")
    anonymous = APIClient()
    for api in (anonymous, partner):
        expected = 401 if api is anonymous else 403
        assert api.patch(enrollment_url(stockton), {"notes": "x"}, format="json").status_code == expected
        assert api.patch(certification_url(hold), {"answer": "yes"}, format="json").status_code == expected
        assert (
            api.post(
                "/api/v1/jurisdictions/", {"name": "A", "state": "TN", "kind": "city"}, format="json"
            ).status_code
            == expected
        )
        assert (
            api.post(
                "/api/v1/enrollments/", {"jurisdiction": "stockton-ca", "program": "psp"}, format="json"
            ).status_code
            == expected
        )
    stockton.refresh_from_db()
    assert (stockton.notes, stockton.version, Jurisdiction.objects.count()) == ("", 1, 1)
    assert hold.history.count() == 1


def test_staff_without_a_role_cannot_write(stockton):
    staff = token_client(StaffUserFactory())
    assert staff.patch(enrollment_url(stockton), {"notes": "x"}, format="json").status_code == 403


# -- If-Match ---------------------------------------------------------------------------------------


def test_a_write_with_the_current_etag_succeeds_and_a_stale_one_gets_412(reviewer, stockton):
    read = reviewer.get(enrollment_url(stockton), HTTP_ACCEPT="application/json")
    etag = read["ETag"]
    first = reviewer.patch(enrollment_url(stockton), {"notes": "First"}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200
    assert first["ETag"] != etag
    assert reviewer.get(enrollment_url(stockton), HTTP_ACCEPT="application/json")["ETag"] == first["ETag"]

    stale = reviewer.patch(enrollment_url(stockton), {"notes": "Second"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert "changed since you read it" in stale.json()["detail"]
    stockton.refresh_from_db()
    assert (stockton.notes, stockton.version) == ("First", 2)

    again = reviewer.patch(
        enrollment_url(stockton), {"notes": "Second"}, format="json", HTTP_IF_MATCH=first["ETag"]
    )
    assert again.status_code == 200


def test_a_stale_etag_on_a_certification_gets_412_and_changes_nothing(editor, stockton):
    hold = stockton.certifications.get(requirement__code="hold_request")
    etag = editor.get(certification_url(hold), HTTP_ACCEPT="application/json")["ETag"]
    Certification.objects.filter(pk=hold.pk).update(version=2, citation="Changed by someone else")
    response = editor.patch(certification_url(hold), {"answer": "yes"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    hold.refresh_from_db()
    assert (hold.answer, hold.version) == ("unknown", 2)


def test_a_write_without_if_match_gets_428_saying_how_to_get_the_etag(editor, stockton):
    hold = stockton.certifications.get(requirement__code="hold_request")
    for path, body in (
        (enrollment_url(stockton), {"notes": "Blind"}),
        (certification_url(hold), {"answer": "no"}),
    ):
        response = editor.patch_without_if_match(path, body)
        assert response.status_code == 428
        detail = response.json()["detail"]
        assert "If-Match" in detail and "ETag" in detail and "GET" in detail
    stockton.refresh_from_db()
    hold.refresh_from_db()
    assert (stockton.notes, stockton.version, hold.answer, hold.version) == ("", 1, "unknown", 1)


def test_if_match_star_writes_the_current_version(editor, stockton):
    response = editor.patch(enrollment_url(stockton), {"notes": "Any"}, format="json", HTTP_IF_MATCH="*")
    assert response.status_code == 200


# -- creating ---------------------------------------------------------------------------------------


def test_staff_create_a_jurisdiction_and_enroll_it(editor):
    created = editor.post(
        "/api/v1/jurisdictions/",
        {"name": "Jackson", "state": "MS", "kind": "city", "geoid": "2836000"},
        format="json",
    )
    assert created.status_code == 201
    assert created["Location"].endswith("/api/v1/jurisdictions/jackson-ms/")
    assert (created.json()["slug"], created.json()["geoid"]) == ("jackson-ms", "2836000")

    enrolled = editor.post(
        "/api/v1/enrollments/",
        {
            "jurisdiction": "jackson-ms",
            "program": "psp",
            "status": "letter_sent",
            "letter_sent_on": "2017-08-03",
            "source": {"title": "Letter to Jackson", "url": "https://example.org/jackson"},
        },
        format="json",
    )
    assert enrolled.status_code == 201
    body = enrolled.json()
    assert (body["status"], body["source"]["title"]) == ("letter_sent", "Letter to Jackson")
    assert [(c["requirement"], c["answer"]) for c in body["certifications"]] == [
        ("facility_access", "unknown"),
        ("release_notice", "unknown"),
        ("hold_request", "unknown"),
    ]
    assert Source.history.get(title="Letter to Jackson").history_via == "api"
    step = StatusChange.objects.get()
    assert (step.to_status, step.changed_by, step.via) == ("letter_sent", editor.user, "api")


def test_a_new_enrollment_cannot_start_participating(reviewer):
    JurisdictionFactory(name="Jackson", state="MS")
    response = reviewer.post(
        "/api/v1/enrollments/",
        {"jurisdiction": "jackson-ms", "program": "psp", "status": "participating"},
        format="json",
    )
    assert response.status_code == 400
    assert "3 requirements are not yet: “DHS access" in errors_of(response)["status"][0]
    assert not Enrollment.objects.exists()


# -- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"status": "admitted"}, "status", '"admitted" is not a valid choice.'),
        ({"letter_sent_on": "3 August"}, "letter_sent_on", "Date has wrong format."),
        ({"version": 7}, "version", "“version” cannot be written here"),
        ({"stauts": "pending"}, "stauts", "“stauts” cannot be written here"),
        ({"source": {"url": "https://example.org"}}, "source.title", "This field is required."),
        ({"source": {"title": "T", "pages": 3}}, "source.pages", "“pages” is not a field of a source"),
        (
            {"response_due_on": "2017-07-01"},
            "body",
            "Constraint “jurisdictions_enrollment_due_after_letter”",
        ),
    ],
)
def test_bad_enrollment_input_is_a_400_naming_the_field(editor, stockton, body, field, message):
    response = editor.patch(enrollment_url(stockton), body, format="json")
    assert response.status_code == 400
    assert field in errors_of(response)
    assert message in str(errors_of(response)[field])
    stockton.refresh_from_db()
    assert stockton.version == 1


def test_not_applicable_without_the_facility_operator_is_a_400(editor, stockton):
    hold = stockton.certifications.get(requirement__code="hold_request")
    response = editor.patch(certification_url(hold), {"answer": "not_applicable"}, format="json")
    assert response.status_code == 400
    assert "Name who runs the facility when the answer is not applicable." in str(response.json())
    response = editor.patch(
        certification_url(hold),
        {"answer": "not_applicable", "facility_operator": "San Joaquin County Sheriff"},
        format="json",
    )
    assert response.status_code == 200


def test_a_duplicate_jurisdiction_or_enrollment_is_a_400(editor, stockton):
    response = editor.post(
        "/api/v1/jurisdictions/", {"name": "Stockton", "state": "CA", "kind": "city"}, format="json"
    )
    assert response.status_code == 400
    assert list(errors_of(response)) == ["slug"]
    response = editor.post(
        "/api/v1/enrollments/", {"jurisdiction": "stockton-ca", "program": "psp"}, format="json"
    )
    assert response.status_code == 400
    assert Enrollment.objects.count() == 1


def test_put_and_delete_are_not_offered(reviewer, stockton):
    assert reviewer.put(enrollment_url(stockton), {"notes": "x"}, format="json").status_code == 405
    assert reviewer.delete(enrollment_url(stockton)).status_code == 405
