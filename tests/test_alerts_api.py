"""Issue 17: partners manage their webhook subscriptions through /api/v1/webhooks/."""

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from alerts.models import Delivery, DeliveryAttempt, Event, WebhookSubscription
from tests.factories import JurisdictionFactory
from tests.factories_alerts import WebhookFactory
from tests.problems import detail_of, errors_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner():
    return User.objects.create_user(username="partner", password="a-long-test-password")


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def api(partner):
    return token_client(partner)


def test_a_partner_creates_a_filtered_subscription_and_sees_its_secret_once(api, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    response = api.post(
        "/api/v1/webhooks/",
        {"target_url": "https://93.184.216.34/hook", "filter": "state=CA", "kinds": ["status_changed"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert sorted(body) == sorted(
        [
            "id",
            "target_url",
            "filter",
            "kinds",
            "active",
            "failing",
            "failing_since",
            "created_at",
            "updated_at",
            "secret",
        ]
    )
    assert (body["filter"], body["kinds"], len(body["secret"]) > 20) == ("state=CA", ["status_changed"], True)
    again = api.get(f"/api/v1/webhooks/{body['id']}/").json()
    assert "secret" not in again


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"target_url": "http://93.184.216.34/hook"}, "target_url"),
        ({"target_url": "https://127.0.0.1/hook"}, "target_url"),
        ({"target_url": "https://10.0.0.5/hook"}, "target_url"),
        ({"target_url": "https://93.184.216.34/", "filter": "state=XX"}, "filter"),
        ({"target_url": "https://93.184.216.34/", "filter": "colour=red"}, "filter"),
        ({"target_url": "https://93.184.216.34/", "filter": "page=2"}, "filter"),
        ({"target_url": "https://93.184.216.34/", "kinds": ["everything"]}, "kinds"),
        ({"target_url": "https://93.184.216.34/", "secret": "mine"}, "secret"),
        ({"target_url": "https://93.184.216.34/", "id": 5}, "id"),
    ],
)
def test_bad_subscriptions_are_a_400_naming_the_field(api, settings, payload, field):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    response = api.post("/api/v1/webhooks/", payload, format="json")
    assert response.status_code == 400
    assert field in errors_of(response)
    assert not WebhookSubscription.objects.exists()


def test_subscriptions_need_a_token_and_each_partner_sees_only_their_own(api, partner):
    other = WebhookFactory()
    mine = WebhookFactory(owner=partner)
    assert APIClient().get("/api/v1/webhooks/").status_code == 401
    listed = api.get("/api/v1/webhooks/").json()
    assert [s["id"] for s in listed["results"]] == [mine.pk]
    assert api.get(f"/api/v1/webhooks/{other.pk}/").status_code == 404
    assert api.delete(f"/api/v1/webhooks/{other.pk}/").status_code == 404


def test_rotate_secret_returns_a_new_one(api, partner):
    subscription = WebhookFactory(owner=partner)
    response = api.post(f"/api/v1/webhooks/{subscription.pk}/rotate-secret/")
    assert response.status_code == 200
    subscription.refresh_from_db()
    assert response.json()["secret"] == subscription.secret != WebhookFactory.build().secret


def test_the_delivery_log_shows_each_attempt(api, partner):
    subscription = WebhookFactory(owner=partner)
    event = Event.objects.create(kind="status_changed", payload={}, jurisdiction=JurisdictionFactory())
    delivery = Delivery.objects.create(
        subscription=subscription,
        event=event,
        status="delivered",
        attempts=2,
        next_attempt_at=event.created_at,
    )
    DeliveryAttempt.objects.create(delivery=delivery, attempt=1, status_code=500, latency_ms=12)
    DeliveryAttempt.objects.create(delivery=delivery, attempt=2, status_code=200, latency_ms=8)
    body = api.get(f"/api/v1/webhooks/{subscription.pk}/deliveries/").json()
    (row,) = body["results"]
    assert (row["event"], row["status"], row["attempts"]) == (str(event.uid), "delivered", 2)
    assert [(a["attempt"], a["status_code"], a["latency_ms"]) for a in row["log"]] == [
        (1, 500, 12),
        (2, 200, 8),
    ]


def test_replay_queues_the_delivery_again_and_refuses_unknown_events(api, partner):
    subscription = WebhookFactory(owner=partner)
    event = Event.objects.create(kind="status_changed", payload={}, jurisdiction=JurisdictionFactory())
    Delivery.objects.create(
        subscription=subscription, event=event, status="delivered", next_attempt_at=event.created_at
    )
    response = api.post(
        f"/api/v1/webhooks/{subscription.pk}/replay/", {"event": str(event.uid)}, format="json"
    )
    assert response.status_code == 202
    assert Delivery.objects.get().status == "pending"
    bad = api.post(
        f"/api/v1/webhooks/{subscription.pk}/replay/",
        {"event": "00000000-0000-0000-0000-000000000000"},
        format="json",
    )
    assert bad.status_code == 400
    assert "event" in errors_of(bad)


def etag_of(api, subscription):
    response = api.get(f"/api/v1/webhooks/{subscription.pk}/")
    assert response.status_code == 200
    return response["ETag"]


def patch(api, subscription, body, **headers):
    return api.patch(f"/api/v1/webhooks/{subscription.pk}/", body, format="json", headers=headers)


def test_patch_changes_the_filter_through_the_same_checks(api, partner):
    subscription = WebhookFactory(owner=partner)
    assert (
        patch(api, subscription, {"filter": "state=TX"}, if_match=etag_of(api, subscription)).status_code
        == 200
    )
    bad = patch(api, subscription, {"filter": "state=ZZ"}, if_match=etag_of(api, subscription))
    assert bad.status_code == 400
    assert "filter" in errors_of(bad)
    subscription.refresh_from_db()
    assert subscription.filter_query == "state=TX"
    assert api.put(f"/api/v1/webhooks/{subscription.pk}/", {}, format="json").status_code == 405


def test_a_subscription_get_has_an_etag_that_answers_304_while_it_is_unchanged(api, partner):
    subscription = WebhookFactory(owner=partner)
    url = f"/api/v1/webhooks/{subscription.pk}/"
    first = api.get(url)
    assert first["ETag"].startswith('"') and "private" in first["Cache-Control"]
    assert api.get(url, headers={"if_none_match": first["ETag"]}).status_code == 304
    changed = patch(api, subscription, {"active": False}, if_match=first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] == etag_of(api, subscription) != first["ETag"]
    assert api.get(url, headers={"if_none_match": first["ETag"]}).status_code == 200


def test_a_patch_without_if_match_gets_428_and_changes_nothing(api, partner):
    subscription = WebhookFactory(owner=partner, filter_query="state=CA")
    for headers in ({}, {"if_match": ""}, {"if_match": "  "}):
        response = patch(api, subscription, {"filter": "state=TX"}, **headers)
        assert response.status_code == 428
        assert "needs an If-Match header" in detail_of(response)
    subscription.refresh_from_db()
    assert subscription.filter_query == "state=CA"


def test_a_patch_with_a_stale_etag_gets_412_and_changes_nothing(api, partner):
    subscription = WebhookFactory(owner=partner, filter_query="state=CA")
    read = etag_of(api, subscription)
    assert patch(api, subscription, {"kinds": ["correction"]}, if_match=read).status_code == 200
    stale = patch(api, subscription, {"filter": "state=TX"}, if_match=read)  # another tool's old read
    assert stale.status_code == 412
    assert "This subscription changed since you read it" in detail_of(stale)
    subscription.refresh_from_db()
    assert (subscription.filter_query, subscription.kinds) == ("state=CA", ["correction"])
    assert patch(api, subscription, {"filter": "state=TX"}, if_match="*").status_code == 200


def test_a_bad_body_is_a_400_before_the_precondition(api, partner):
    subscription = WebhookFactory(owner=partner)
    response = patch(api, subscription, {"secret": "mine"})
    assert response.status_code == 400
    assert "secret" in errors_of(response)


def test_staff_see_deliveries_in_the_admin(admin_client):
    subscription = WebhookFactory()
    event = Event.objects.create(kind="status_changed", payload={}, jurisdiction=JurisdictionFactory())
    delivery = Delivery.objects.create(
        subscription=subscription, event=event, next_attempt_at=event.created_at
    )
    DeliveryAttempt.objects.create(delivery=delivery, attempt=1, status_code=503, latency_ms=40)
    page = admin_client.get(f"/admin/alerts/delivery/{delivery.pk}/change/")
    assert page.status_code == 200
    assert b"503" in page.content
    assert admin_client.get("/admin/alerts/webhooksubscription/").status_code == 200


def test_the_admin_refuses_a_private_target(admin_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    owner = User.objects.create_user(username="p2")
    response = admin_client.post(
        "/admin/alerts/webhooksubscription/add/",
        {
            "owner": owner.pk,
            "target_url": "https://192.168.1.2/hook",
            "filter_query": "",
            "active": "on",
            "deliveries-TOTAL_FORMS": "0",
            "deliveries-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert b"private" in response.content
    assert not WebhookSubscription.objects.exists()


def test_errors_are_lists_of_strings_per_field_even_for_list_items(api):
    response = api.post(
        "/api/v1/webhooks/", {"target_url": "https://93.184.216.34/", "kinds": ["everything"]}, format="json"
    )
    assert response.status_code == 400
    assert errors_of(response) == {"kinds": ['Item 0: "everything" is not a valid choice.']}


def test_the_schema_documents_if_match_412_and_428_on_patch_and_the_etag_on_get(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    operations = schema["paths"]["/api/v1/webhooks/{id}/"]
    if_match = [p for p in operations["patch"]["parameters"] if p["name"] == "If-Match"]
    assert [(p["in"], p["required"], p["schema"]) for p in if_match] == [
        ("header", True, {"type": "string", "minLength": 1})
    ]
    responses = operations["patch"]["responses"]
    assert {"200", "400", "412", "428"} <= set(responses)
    assert "application/problem+json" in responses["412"]["content"]
    assert "ETag" in responses["200"]["headers"]
    assert "ETag" in operations["get"]["responses"]["200"]["headers"]
    assert "304" in operations["get"]["responses"]
