"""E-mail alerts for readers: subscribe (double opt-in), confirm, unsubscribe, and the digests the
worker sends. Addresses are never shown on a public page; only staff see them in the admin."""

from datetime import timedelta

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from ..models import EmailSubscription, Event
from .events import request_delivery
from .webhooks import filter_matches

DAILY = timedelta(hours=24)
MAX_EVENTS_PER_MESSAGE = 200


def _links(subscription):
    base = subscription.base_url.rstrip("/")
    return {
        "confirm_url": base + reverse("alerts:confirm", args=[subscription.token]),
        "unsubscribe_url": base + reverse("alerts:unsubscribe", args=[subscription.token]),
        "list_url": base
        + reverse("jurisdictions:jurisdiction-list")
        + ("?" + subscription.filter_query if subscription.filter_query else ""),
    }


def _send(subscription, *, subject, template, context):
    """`subject` is a callable: it is worded, like the body and the links, in the subscription's
    language (issue 19: /es/ links and Spanish text for a subscription made on /es/)."""
    with translation.override(subscription.language):
        links = _links(subscription)
        body = render_to_string(template, {**context, **links, "subscription": subscription})
        subject = subject()
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        to=[subscription.email],
        headers={
            # One-click unsubscribe (RFC 8058): mail clients POST "List-Unsubscribe=One-Click" there.
            "List-Unsubscribe": f"<{links['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.send()


def email_subscribe(*, email, filter_query, frequency, base_url, language="en"):
    """A pending subscription and its confirmation message (sent by the worker after commit)."""
    subscription = EmailSubscription(
        email=email, filter_query=filter_query, frequency=frequency, base_url=base_url, language=language
    )
    subscription.full_clean()
    subscription.save()
    transaction.on_commit(request_delivery)
    return subscription


def confirmations_send():
    """Send the confirmation message of each new subscription (again after a failed attempt: the
    mark is written only when the message went out)."""
    sent = 0
    for subscription in EmailSubscription.objects.filter(confirmation_sent_at=None, confirmed_at=None):
        with transaction.atomic():
            locked = (
                EmailSubscription.objects.select_for_update()
                .filter(pk=subscription.pk, confirmation_sent_at=None)
                .first()
            )
            if locked is None:
                continue
            _send(
                locked,
                subject=lambda: gettext("Confirm your PSP Tracker alert"),
                template="alerts/email_confirm.txt",
                context={},
            )
            locked.confirmation_sent_at = timezone.now()
            locked.save(update_fields=["confirmation_sent_at"])
            sent += 1
    return sent


def email_confirm(*, subscription):
    """Confirm; changes from now on are sent (not the ones before)."""
    if subscription.confirmed_at is None:
        subscription.confirmed_at = timezone.now()
        subscription.last_event_id = Event.objects.aggregate(m=Max("pk"))["m"] or 0
        subscription.save(update_fields=["confirmed_at", "last_event_id"])
    return subscription


def email_unsubscribe(*, subscription):
    """The subscription and the address are deleted, not kept as inactive."""
    subscription.delete()


def digests_send(*, now=None):
    """Send each confirmed subscription the changes of its list since its last message: at once
    (immediate) or when a day has passed since the last one (daily). Returns messages sent."""
    now = now or timezone.now()
    newest = Event.objects.aggregate(m=Max("pk"))["m"] or 0
    sent, cache = 0, {}
    due = EmailSubscription.objects.filter(confirmed_at__isnull=False, last_event_id__lt=newest)
    for subscription in due:
        if subscription.frequency == EmailSubscription.Frequency.DAILY and (
            subscription.last_sent_at and now - subscription.last_sent_at < DAILY
        ):
            continue
        with transaction.atomic():
            locked = EmailSubscription.objects.select_for_update().filter(pk=subscription.pk).first()
            if locked is None or locked.last_event_id >= newest:
                continue
            events = [
                e
                for e in Event.objects.filter(pk__gt=locked.last_event_id, pk__lte=newest).order_by("pk")
                if filter_matches(locked.filter_query, e.jurisdiction_id, cache)
            ]
            locked.last_event_id = newest
            if events:
                count = len(events)
                _send(
                    locked,
                    subject=lambda: (
                        ngettext(
                            "PSP Tracker: %(n)d change in your list",
                            "PSP Tracker: %(n)d changes in your list",
                            count,  # noqa: B023  (called at once, inside _send)
                        )
                        % {"n": count}  # noqa: B023
                    ),
                    template="alerts/email_digest.txt",
                    context={
                        "events": events[:MAX_EVENTS_PER_MESSAGE],
                        "more": max(0, len(events) - MAX_EVENTS_PER_MESSAGE),
                    },
                )
                locked.last_sent_at = now
                sent += 1
            locked.save(update_fields=["last_event_id", "last_sent_at"])
    return sent
