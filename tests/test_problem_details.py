"""Every response under /api/ is JSON, and every error is RFC 9457 problem details naming what was
refused (issue 16): one test per status, through the door that produces it."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from psp_tracker.errors import csrf_failure
from tests.factories import EnrollmentFactory, StaffUserFactory
from tests.problems import detail_of, errors_of, problem_of

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def staff():
    client = APIClient()
    user = StaffUserFactory(groups=["Reviewer"])
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def enrollment():
    return EnrollmentFactory(status="pending")


def test_a_bad_filter_is_a_400_naming_it(client):
    response = client.get(f"{API}/jurisdictions/?state=ZZ")
    assert response.status_code == 400
    assert problem_of(response)["title"] == "Bad Request"
    assert list(errors_of(response)) == ["state"]


def test_a_malformed_json_body_is_a_400_naming_the_body(staff, enrollment):
    response = staff.patch(
        f"{API}/enrollments/{enrollment.pk}/", "{not json", content_type="application/json", HTTP_IF_MATCH="*"
    )
    assert response.status_code == 400
    assert list(errors_of(response)) == ["body"]
    assert "JSON parse error" in detail_of(response)


def test_an_invalid_token_is_a_401_problem(client):
    response = client.get(f"{API}/programs/", HTTP_AUTHORIZATION="Token nope")
    assert response.status_code == 401
    assert problem_of(response)["title"] == "Unauthorized"
    assert response["WWW-Authenticate"].startswith("Token")


def test_a_session_write_without_csrf_is_a_403_problem(enrollment, django_user_model):
    user = django_user_model.objects.create_user("staffer", password="a-long-test-password", is_staff=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.patch(
        f"{API}/enrollments/{enrollment.pk}/", "{}", content_type="application/json", HTTP_IF_MATCH="*"
    )
    assert response.status_code == 403
    assert "CSRF" in detail_of(response)


def test_the_csrf_failure_view_answers_a_problem_under_the_api(rf):
    response = csrf_failure(rf.post(f"{API}/anything/"), reason="CSRF cookie not set.")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert b'"name": "X-CSRFToken"' in response.content


def test_an_unmatched_api_route_is_a_404_problem_even_for_a_session_patch(enrollment, django_user_model):
    user = django_user_model.objects.create_user("staffer", password="a-long-test-password", is_staff=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.patch(f"{API}/certifications/0.5/", "{}", content_type="application/json")
    assert response.status_code == 404
    assert problem_of(response)["errors"] == []


def test_a_method_the_resource_does_not_offer_is_a_405_problem(staff, enrollment):
    response = staff.put(f"{API}/enrollments/{enrollment.pk}/", {}, format="json")
    assert response.status_code == 405
    assert problem_of(response)["title"] == "Method Not Allowed"
    assert "PATCH" in response["Allow"]
    trace = Client().generic("TRACE", f"{API}/programs/")
    assert trace.status_code == 405
    assert problem_of(trace)["status"] == 405


def test_an_accept_nothing_satisfies_is_a_406_problem_in_json(client):
    response = client.get(f"{API}/programs/", HTTP_ACCEPT="application/xml")
    assert response.status_code == 406
    assert list(errors_of(response)) == ["Accept"]


def test_a_browser_gets_errors_as_json_too(client):
    response = client.get(f"{API}/jurisdictions/?state=ZZ", HTTP_ACCEPT="text/html")
    assert response.status_code == 400
    assert list(errors_of(response)) == ["state"]


def test_a_body_too_large_is_a_413_problem(staff, enrollment, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = staff.patch(
        f"{API}/enrollments/{enrollment.pk}/", {"notes": "x" * 2000}, format="json", HTTP_IF_MATCH="*"
    )
    assert response.status_code == 413
    assert list(errors_of(response)) == ["body"]
    enrollment.refresh_from_db()
    assert enrollment.notes == ""


def test_a_body_that_is_not_json_is_a_415_problem(staff, enrollment):
    response = staff.patch(
        f"{API}/enrollments/{enrollment.pk}/", "status=pending", content_type="text/plain", HTTP_IF_MATCH="*"
    )
    assert response.status_code == 415
    assert list(errors_of(response)) == ["Content-Type"]


def test_a_missing_or_blank_if_match_is_a_428_problem_naming_it(staff, enrollment):
    for headers in ({}, {"HTTP_IF_MATCH": " "}):
        response = staff.patch(
            f"{API}/enrollments/{enrollment.pk}/", {"notes": "x"}, format="json", **headers
        )
        assert response.status_code == 428
        assert problem_of(response)["title"] == "Precondition Required"


def test_a_stale_if_match_is_a_412_but_a_bad_body_is_judged_first(staff, enrollment):
    url = f"{API}/enrollments/{enrollment.pk}/"
    stale = staff.patch(url, {"notes": "x"}, format="json", HTTP_IF_MATCH='"stale"')
    assert stale.status_code == 412
    assert problem_of(stale)["title"] == "Precondition Failed"
    bad = staff.patch(url, {"status": "admitted"}, format="json", HTTP_IF_MATCH='"stale"')
    assert bad.status_code == 400
    assert list(errors_of(bad)) == ["status"]


def test_a_value_of_the_wrong_json_type_is_refused(staff):
    response = staff.post(f"{API}/jurisdictions/", {"name": 0, "state": "AK"}, format="json")
    assert response.status_code == 400
    assert list(errors_of(response)) == ["name"]


def test_a_value_longer_than_its_limit_is_refused_even_when_whitespace_pads_it(staff):
    response = staff.post(
        f"{API}/jurisdictions/", {"name": " " * 5 + "x" * 198, "state": "AK"}, format="json"
    )
    assert response.status_code == 400
    assert list(errors_of(response)) == ["name"]


def test_an_empty_format_is_a_400_naming_it(client):
    response = client.get(f"{API}/jurisdictions/?format=")
    assert response.status_code == 400
    assert list(errors_of(response)) == ["format"]
