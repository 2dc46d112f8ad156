"""Webhook subscriptions and their deliveries: matching events to subscriptions, signing, sending,
retrying with backoff, the delivery log, replays and secret rotation.

Delivery is at least once: a delivery is claimed (`locked_until`) in one transaction, POSTed, and
its outcome written in another; a worker that dies between the two leaves the claim to expire and
the POST is sent again. Receivers deduplicate on the event id (`X-PSP-Event-Id`).
"""

import hashlib
import hmac
import json
import random
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, Min, OuterRef, Q
from django.http import QueryDict
from django.utils import timezone

from ..models import Delivery, DeliveryAttempt, Event, WebhookSubscription, new_secret
from .targets import target_error

USER_AGENT = "PSP-Tracker-Webhooks/1"
MAX_BACKOFF_SECONDS = 3600


# -- subscriptions -------------------------------------------------------------------------------


def filter_errors(filter_query):
    """The FilterSet's own errors for a saved filter ({parameter: [messages]}), or {}."""
    from jurisdictions.filters import JurisdictionFilter
    from jurisdictions.models import Jurisdiction

    data = QueryDict(filter_query or "")
    extra = sorted(set(data) & {"page", "page_size", "format", "cursor"})
    if extra:
        return {name: ["Not a filter: a saved filter has no page, size or format."] for name in extra}
    filterset = JurisdictionFilter(data=data, queryset=Jurisdiction.objects.none())
    if filterset.is_valid():
        return {}
    return {name: [str(m) for m in messages] for name, messages in filterset.form.errors.items()}


def subscription_check(subscription):
    errors = {}
    if problem := target_error(subscription.target_url):
        errors["target_url"] = problem
    if problems := filter_errors(subscription.filter_query):
        errors["filter"] = [f"{name}: {' '.join(messages)}" for name, messages in problems.items()]
    unknown = [k for k in subscription.kinds or [] if k not in Event.Kind.values]
    if unknown or not isinstance(subscription.kinds, list):
        errors["kinds"] = (
            f"Unknown event kinds: {', '.join(map(str, unknown))}. Known: {', '.join(Event.Kind.values)}."
        )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def webhook_create(*, owner, target_url, filter_query="", kinds=()):
    subscription = WebhookSubscription(
        owner=owner, target_url=target_url, filter_query=filter_query, kinds=list(kinds)
    )
    subscription_check(subscription)
    subscription.full_clean()
    subscription.save()
    return subscription


@transaction.atomic
def webhook_update(*, subscription, **fields):
    for name, value in fields.items():
        if name not in {"target_url", "filter_query", "kinds", "active"}:
            raise TypeError(f"webhook_update() got an unexpected field {name!r}")
        setattr(subscription, name, list(value) if name == "kinds" else value)
    subscription_check(subscription)
    if fields.get("active"):
        subscription.failing_since = None  # the partner fixed the endpoint and turns it back on
    subscription.full_clean()
    subscription.save()
    return subscription


def webhook_rotate_secret(*, subscription):
    """A new secret for the next deliveries; the old one stops signing at once."""
    subscription.secret = new_secret()
    subscription.save(update_fields=["secret", "updated_at"])
    return subscription


@transaction.atomic
def delivery_replay(*, subscription, event):
    """Send `event` to `subscription` again (a new attempt series; the log keeps the old ones)."""
    delivery, created = Delivery.objects.get_or_create(
        subscription=subscription, event=event, defaults={"next_attempt_at": timezone.now()}
    )
    if not created:
        delivery.status = Delivery.Status.PENDING
        delivery.next_attempt_at = timezone.now()
        delivery.first_attempt_at = None
        delivery.locked_until = None
        delivery.save()
    transaction.on_commit(_request_delivery)
    return delivery


def _request_delivery():
    from .events import request_delivery

    request_delivery()


# -- matching events to subscriptions --------------------------------------------------------------


def filter_matches(filter_query, jurisdiction_id, cache=None):
    """Whether the jurisdiction is in the list the saved filter selects (the list's own FilterSet)."""
    from jurisdictions.filters import JurisdictionFilter
    from jurisdictions.models import Jurisdiction

    if not filter_query:
        return True
    if jurisdiction_id is None:
        return False
    key = (filter_query, jurisdiction_id)
    if cache is not None and key in cache:
        return cache[key]
    filterset = JurisdictionFilter(
        data=QueryDict(filter_query), queryset=Jurisdiction.objects.filter(pk=jurisdiction_id)
    )
    found = filterset.is_valid() and filterset.qs.exists()
    if cache is not None:
        cache[key] = found
    return found


def events_dispatch(*, limit=500):
    """Match events not yet dispatched to the active subscriptions: one delivery each. Returns the
    number of events dispatched."""
    with transaction.atomic():
        events = list(
            Event.objects.select_for_update(skip_locked=True)
            .filter(dispatched_at=None)
            .order_by("pk")[:limit]
        )
        if not events:
            return 0
        subscriptions = list(WebhookSubscription.objects.filter(active=True))
        now, cache, deliveries = timezone.now(), {}, []
        for event in events:
            for s in subscriptions:
                if (
                    s.created_at <= event.created_at
                    and s.wants(event.kind)
                    and filter_matches(s.filter_query, event.jurisdiction_id, cache)
                ):
                    deliveries.append(Delivery(subscription=s, event=event, next_attempt_at=now))
        Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        Event.objects.filter(pk__in=[e.pk for e in events]).update(dispatched_at=now)
        return len(events)


# -- sending -----------------------------------------------------------------------------------------


def signature(secret, timestamp, body):
    """HMAC-SHA256 over "<timestamp>.<body>" with the subscription's secret, hex."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def event_body(event):
    return json.dumps(
        {
            "id": str(event.uid),
            "type": event.kind,
            "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
            "data": event.payload,
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer (3xx, retried), never followed: it could point into our network."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post(url, body, headers, timeout):
    """POST; (status code or None, error text)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(1024)
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except (OSError, ValueError) as exc:  # refused, reset, timeout, TLS
        return None, f"{type(exc).__name__}: {exc}"[:500]


def backoff_seconds(attempt):
    """Exponential from WEBHOOK_BACKOFF_SECONDS, capped at an hour, with jitter (half to full)."""
    delay = min(settings.WEBHOOK_BACKOFF_SECONDS * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS)
    return delay * (0.5 + random.random() / 2)


def _claim(*, limit):
    now = timezone.now()
    earlier_pending = Delivery.objects.filter(
        subscription=OuterRef("subscription"),
        event__jurisdiction_id=OuterRef("event__jurisdiction_id"),
        event_id__lt=OuterRef("event_id"),
        status=Delivery.Status.PENDING,
    )
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(locked_until=None) | Q(locked_until__lt=now))
            # Per jurisdiction, in order: a delivery waits while an earlier one is still pending.
            .exclude(Exists(earlier_pending))
            .select_related("event", "subscription")
            .order_by("event_id")[:limit]
        )
        until = now + timedelta(
            seconds=settings.WEBHOOK_TIMEOUT_SECONDS + settings.WEBHOOK_CLAIM_MARGIN_SECONDS
        )
        Delivery.objects.filter(pk__in=[d.pk for d in due]).update(locked_until=until)
    return due


def delivery_attempt(delivery):
    """POST the delivery once and record the outcome."""
    subscription, event = delivery.subscription, delivery.event
    attempt = delivery.attempts + 1
    body = event_body(event)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-PSP-Event-Id": str(event.uid),
        "X-PSP-Event-Type": event.kind,
        "X-PSP-Timestamp": timestamp,
        "X-PSP-Signature": "sha256=" + signature(subscription.secret, timestamp, body),
        "X-PSP-Delivery-Attempt": str(attempt),
    }
    started = time.monotonic()
    if problem := target_error(subscription.target_url):
        code, error = None, problem
    else:
        code, error = post(subscription.target_url, body, headers, settings.WEBHOOK_TIMEOUT_SECONDS)
    latency_ms = int((time.monotonic() - started) * 1000)
    now = timezone.now()
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery, attempt=attempt, status_code=code, latency_ms=latency_ms, error=error
        )
        delivery.attempts = attempt
        delivery.first_attempt_at = delivery.first_attempt_at or now
        delivery.locked_until = None
        if code is not None and 200 <= code < 300:
            delivery.status = Delivery.Status.DELIVERED
            delivery.delivered_at = now
            WebhookSubscription.objects.filter(pk=subscription.pk).update(failing_since=None)
        elif now - delivery.first_attempt_at >= timedelta(hours=settings.WEBHOOK_RETRY_HOURS):
            delivery.status = Delivery.Status.FAILED
            WebhookSubscription.objects.filter(pk=subscription.pk, failing_since=None).update(
                failing_since=now
            )
        else:
            delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(attempt))
        delivery.save()
    return delivery


def deliveries_send_due(*, limit=100, max_rounds=50):
    """Send every delivery that is due, round by round (each round the next one per jurisdiction)."""
    sent = 0
    for _ in range(max_rounds):
        due = _claim(limit=limit)
        if not due:
            break
        for delivery in due:
            delivery_attempt(delivery)
            sent += 1
    return sent


def next_retry_at():
    return Delivery.objects.filter(status=Delivery.Status.PENDING).aggregate(at=Min("next_attempt_at"))["at"]
