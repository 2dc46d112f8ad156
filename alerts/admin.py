"""Staff see every subscription, delivery and attempt; webhook subscriptions are created and changed
through the same services as the API (target and filter checks)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from .models import Delivery, DeliveryAttempt, EmailSubscription, Event, WebhookSubscription
from .services import webhooks


class WebhookForm(forms.ModelForm):
    kinds = forms.MultipleChoiceField(
        choices=Event.Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None checked: every kind.",
    )

    class Meta:
        model = WebhookSubscription
        fields = ("owner", "target_url", "filter_query", "kinds", "active")

    def clean(self):
        cleaned = super().clean()
        candidate = WebhookSubscription(
            target_url=cleaned.get("target_url") or "",
            filter_query=cleaned.get("filter_query") or "",
            kinds=list(cleaned.get("kinds") or []),
        )
        try:
            webhooks.subscription_check(candidate)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error("filter_query" if field == "filter" else field, errors)
        return cleaned


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = ("event", "status", "attempts", "next_attempt_at", "delivered_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-pk"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ("target_url", "owner", "filter_query", "active", "failing_since", "created_at")
    list_filter = ("active",)
    readonly_fields = ("failing_since", "created_at", "updated_at")
    inlines = [DeliveryInline]
    actions = ["rotate_secret"]

    def save_model(self, request, obj, form, change):
        if change:
            webhooks.webhook_update(
                subscription=obj,
                **{f: form.cleaned_data[f] for f in ("target_url", "filter_query", "kinds", "active")},
            )
        else:
            saved = webhooks.webhook_create(
                owner=form.cleaned_data["owner"],
                target_url=obj.target_url,
                filter_query=obj.filter_query,
                kinds=form.cleaned_data["kinds"],
            )
            obj.pk = saved.pk

    @admin.action(description="Rotate the secret of the selected subscriptions")
    def rotate_secret(self, request, queryset):
        for subscription in queryset:
            webhooks.webhook_rotate_secret(subscription=subscription)
        messages.success(request, "New secrets set; the partners read them through the API.")


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ("attempt", "status_code", "latency_ms", "error", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("event", "subscription", "status", "attempts", "next_attempt_at", "delivered_at")
    list_filter = ("status",)
    list_select_related = ("event", "subscription")
    readonly_fields = (
        "subscription",
        "event",
        "status",
        "attempts",
        "next_attempt_at",
        "first_attempt_at",
        "locked_until",
        "delivered_at",
        "created_at",
    )
    inlines = [AttemptInline]
    actions = ["replay"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Send the selected deliveries again")
    def replay(self, request, queryset):
        for delivery in queryset.select_related("subscription", "event"):
            webhooks.delivery_replay(subscription=delivery.subscription, event=delivery.event)
        messages.success(request, "Queued again.")


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("uid", "kind", "jurisdiction", "created_at", "dispatched_at")
    list_filter = ("kind",)
    readonly_fields = ("uid", "kind", "jurisdiction", "payload", "created_at", "dispatched_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EmailSubscription)
class EmailSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("email", "filter_query", "frequency", "confirmed_at", "last_sent_at")
    list_filter = ("frequency",)
    search_fields = ("email",)
    readonly_fields = (
        "token",
        "base_url",
        "confirmation_sent_at",
        "confirmed_at",
        "last_event_id",
        "last_sent_at",
        "created_at",
    )
