"""Push alerts: the events every change records (the outbox), partners' webhook subscriptions with
their deliveries and attempts, and readers' e-mail subscriptions.

Events are written in the transaction of the change that caused them (alerts/services/events.py),
so a change that rolls back leaves no event; the worker delivers them after commit.
"""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def new_secret():
    return secrets.token_urlsafe(32)


def new_token():
    return secrets.token_urlsafe(24)


class Event(models.Model):
    """One change, once: its `uid` is the idempotency key every delivery of it carries."""

    class Kind(models.TextChoices):
        STATUS_CHANGED = "status_changed", _("Status changed")
        ANSWER_CHANGED = "answer_changed", _("Answer changed")
        CORRECTION = "correction", _("Correction")
        JURISDICTION_ADDED = "jurisdiction_added", _("Jurisdiction added")

    # The primary key orders events (per jurisdiction, deliveries go out in this order).
    uid = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, help_text="The event's stable id."
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    jurisdiction = models.ForeignKey(
        "jurisdictions.Jurisdiction", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    payload = models.JSONField(help_text="What changed: the body's `data`.")
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="When the worker matched it to the subscriptions."
    )

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=["status_changed", "answer_changed", "correction", "jurisdiction_added"]
                ),
                name="%(app_label)s_%(class)s_kind_valid",
            )
        ]
        # The worker's sweep looks for events not yet dispatched.
        indexes = [
            models.Index(
                fields=["dispatched_at"], name="alerts_event_undispatched", condition=Q(dispatched_at=None)
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.uid}"


class WebhookSubscription(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks")
    target_url = models.URLField(max_length=500, help_text="Where each event is POSTed (https).")
    filter_query = models.CharField(
        max_length=1000,
        blank=True,
        help_text="The list's filter parameters (e.g. state=CA&status=participating); blank: everything.",
    )
    kinds = models.JSONField(
        default=list, blank=True, help_text="The event kinds to send; empty: all of them."
    )
    secret = models.CharField(
        max_length=100, default=new_secret, help_text="Signs each delivery (HMAC-SHA256)."
    )
    active = models.BooleanField(default=True)
    failing_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when a delivery kept failing for the whole retry window; cleared by a success.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.target_url

    def wants(self, kind):
        return not self.kinds or kind in self.kinds


class Delivery(models.Model):
    """An event for one subscription: retried until it is answered 2xx or the window ends."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker is sending it; another may take it after this."
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="alerts_delivery_once_per_event"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "delivered", "failed"]),
                name="%(app_label)s_%(class)s_status_valid",
            ),
        ]
        # The worker asks for pending deliveries that are due.
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="alerts_delivery_due")]

    def __str__(self):
        return f"{self.event.uid} → {self.subscription}"


class DeliveryAttempt(models.Model):
    """One POST of a delivery: the log partners and staff read."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempt = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(
        null=True, blank=True, help_text="None: no answer (timeout, refused)."
    )
    latency_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["delivery", "attempt"]

    def __str__(self):
        return f"attempt {self.attempt}: {self.status_code or self.error}"


class EmailSubscription(models.Model):
    """A reader's alert on a filtered list; confirmed through a link (double opt-in)."""

    class Frequency(models.TextChoices):
        IMMEDIATE = "immediate", _("As soon as something changes")
        DAILY = "daily", _("Once a day at most")

    email = models.EmailField(max_length=254)
    filter_query = models.CharField(max_length=1000, blank=True)
    frequency = models.CharField(max_length=16, choices=Frequency.choices, default=Frequency.DAILY)
    token = models.CharField(max_length=64, unique=True, default=new_token)
    base_url = models.CharField(max_length=200, help_text="The site's origin for the links in its messages.")
    # Issue 19: the language of the page it was made on; its messages and links are in it.
    language = models.CharField(
        max_length=8,
        choices=settings.LANGUAGES,
        default="en",
        help_text="The language of its messages (that of the page the reader subscribed on).",
    )
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_event_id = models.BigIntegerField(default=0, help_text="Events up to this one were sent or skipped.")
    last_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(frequency__in=["immediate", "daily"]),
                name="%(app_label)s_%(class)s_frequency_valid",
            ),
            models.CheckConstraint(
                condition=Q(language__in=["en", "es"]), name="%(app_label)s_%(class)s_language_valid"
            ),
        ]

    def __str__(self):
        return f"alert #{self.pk}"
