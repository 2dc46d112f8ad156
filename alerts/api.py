"""The partner API for webhooks (/api/v1/webhooks/): a token holder manages their own
subscriptions, reads the delivery log, replays an event and rotates the secret. Writes go through
alerts.services.webhooks, like the admin.

A subscription's GET carries an ETag (a hash of its JSON, as every read of the API); a PATCH needs
it back as If-Match, like the jurisdiction writes (jurisdictions/api/writes.py): 428 without it,
412 when the subscription changed since, checked under the row's lock so that two partners' tools
sharing a token cannot overwrite each other's change.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import parse_etags
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from jurisdictions.api.schema import ERROR_DETAIL
from jurisdictions.api.writes import IF_MATCH, PreconditionFailed, PreconditionRequired
from jurisdictions.etags import etag_for, set_etag

from .models import Delivery, DeliveryAttempt, Event, WebhookSubscription
from .services import webhooks

ERROR_BODIES = {
    400: (
        {
            "type": "object",
            "description": "Each field refused, with its messages; `detail` when the body cannot be read.",
            "additionalProperties": {
                "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]
            },
        },
        "A field, a parameter or the body is invalid; the body names it.",
    ),
    401: (ERROR_DETAIL, "No valid token was given."),
    403: (ERROR_DETAIL, "Refused (a session without its CSRF token)."),
    404: (ERROR_DETAIL, "No such subscription of yours (or a page past the end)."),
    412: (ERROR_DETAIL, "If-Match does not match: the subscription changed since you read it."),
    428: (ERROR_DETAIL, "No If-Match header: GET the subscription first and send its ETag."),
    429: (ERROR_DETAIL, "Too many requests; see Retry-After."),
}


def errors(*codes):
    """The error responses of an operation, for the schema."""
    return {code: OpenApiResponse(ERROR_BODIES[code][0], description=ERROR_BODIES[code][1]) for code in codes}


KIND_HELP = "Event kinds to send: " + ", ".join(Event.Kind.values) + "; empty or absent: all of them."


class WebhookSerializer(serializers.ModelSerializer):
    filter = serializers.CharField(
        source="filter_query",
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text="The jurisdiction list's filter parameters as a query string, e.g. state=CA&status=participating.",
    )
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=Event.Kind.choices), required=False, help_text=KIND_HELP
    )
    failing = serializers.SerializerMethodField(
        help_text="True once a delivery failed for the whole retry window."
    )

    class Meta:
        model = WebhookSubscription
        fields = (
            "id",
            "target_url",
            "filter",
            "kinds",
            "active",
            "failing",
            "failing_since",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "failing", "failing_since", "created_at", "updated_at")
        extra_kwargs = {
            "id": {"help_text": "The subscription's id."},
            "active": {
                "help_text": "False pauses deliveries; setting it true again clears the failing flag."
            },
            "created_at": {"help_text": "When it was created; events before it are not sent."},
            "updated_at": {"help_text": "When it was last changed."},
        }

    def get_failing(self, obj) -> bool:
        return obj.failing_since is not None


class WebhookWithSecretSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="Signs every delivery; shown on create and rotate only."
    )

    class Meta(WebhookSerializer.Meta):
        fields = (*WebhookSerializer.Meta.fields, "secret")


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ("attempt", "status_code", "latency_ms", "error", "created_at")
        extra_kwargs = {
            "attempt": {"help_text": "1 for the first POST, then 2, 3, ..."},
            "latency_ms": {"help_text": "Milliseconds until the answer (or the failure)."},
            "error": {"help_text": "Why there was no answer (timeout, refused); empty with a status code."},
            "created_at": {"help_text": "When the attempt ended."},
        }


class DeliverySerializer(serializers.ModelSerializer):
    event = serializers.UUIDField(source="event.uid", help_text="The event's id (X-PSP-Event-Id).")
    event_type = serializers.CharField(source="event.kind", help_text="The event's kind (X-PSP-Event-Type).")
    log = AttemptSerializer(source="attempt_log", many=True, help_text="Every attempt, oldest first.")

    class Meta:
        model = Delivery
        fields = ("id", "event", "event_type", "status", "attempts", "next_attempt_at", "delivered_at", "log")
        extra_kwargs = {
            "id": {"help_text": "The delivery's id."},
            "status": {"help_text": "pending (to be sent or retried), delivered (2xx) or failed (gave up)."},
            "attempts": {"help_text": "POSTs made so far."},
            "next_attempt_at": {"help_text": "When it is (or was) due next."},
            "delivered_at": {"help_text": "When a 2xx answer came; null until then."},
        }


class ReplaySerializer(serializers.Serializer):
    event = serializers.UUIDField(help_text="The id of an event this subscription was sent (or would match).")


WRITABLE = ("target_url", "filter", "kinds", "active")


def _refuse_unknown(data, allowed):
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["The body must be a JSON object."]})
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationError(
            {
                name: [f"“{name}” cannot be written here; writable fields: {', '.join(allowed)}."]
                for name in unknown
            }
        )


def _flat(messages):
    """A field's messages as a list of strings: DRF keys a list's item errors by index."""
    if isinstance(messages, dict):
        return [f"Item {k}: {m}" for k, v in messages.items() for m in _flat(v)]
    if isinstance(messages, list):
        return [m for v in messages for m in _flat(v)]
    return [str(messages)]


def _string_keys(errors):
    return {str(field): _flat(messages) for field, messages in errors.items()}


def _validated(serializer):
    if not serializer.is_valid():
        raise ValidationError(_string_keys(serializer.errors))
    return serializer.validated_data


def _as_api_error(exc):
    errors = dict(exc.message_dict) if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    if "filter_query" in errors:
        errors["filter"] = errors.pop("filter_query")
    return ValidationError(errors)


@extend_schema(tags=["webhooks"])
@extend_schema_view(
    list=extend_schema(
        responses={
            200: OpenApiResponse(WebhookSerializer(many=True), description="Your subscriptions."),
            **errors(400, 401, 404, 429),
        }
    ),
    retrieve=extend_schema(
        responses={
            200: OpenApiResponse(WebhookSerializer, description="One subscription."),
            **errors(401, 404, 429),
        }
    ),
    partial_update=extend_schema(
        parameters=[IF_MATCH],
        responses={
            200: OpenApiResponse(WebhookSerializer, description="Changed, with its new ETag."),
            **errors(400, 401, 403, 404, 412, 428, 429),
        },
    ),
    destroy=extend_schema(
        responses={
            204: OpenApiResponse(description="Deleted, with its deliveries."),
            **errors(401, 403, 404, 429),
        }
    ),
)
class WebhookViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your webhook subscriptions (each token holder sees only their own)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = WebhookSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookSubscription.objects.none()
        return WebhookSubscription.objects.filter(owner=self.request.user).order_by("pk")

    @extend_schema(
        request=WebhookSerializer,
        responses={
            201: OpenApiResponse(WebhookWithSecretSerializer, description="Created, with its secret."),
            **errors(400, 401, 403, 429),
        },
    )
    def create(self, request, *args, **kwargs):
        _refuse_unknown(request.data, WRITABLE)
        data = _validated(WebhookSerializer(data=request.data))
        try:
            subscription = webhooks.webhook_create(
                owner=request.user,
                target_url=data["target_url"],
                filter_query=data.get("filter_query", ""),
                kinds=data.get("kinds", []),
            )
        except DjangoValidationError as exc:
            raise _as_api_error(exc) from None
        return Response(WebhookWithSecretSerializer(subscription).data, status=status.HTTP_201_CREATED)

    def finalize_response(self, request, response, *args, **kwargs):
        """ETag on reads, and 304 for a matching If-None-Match; private: a partner's own data."""
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            response.render()
            set_etag(response)
            patch_cache_control(response, private=True, no_cache=True)
            return get_conditional_response(request, etag=response.get("ETag"), response=response)
        return response

    def representation_etag(self, subscription):
        """The ETag a JSON GET of `subscription` carries."""
        renderer = next((r for r in self.get_renderers() if r.format == "json"), JSONRenderer())
        return etag_for(renderer.render(WebhookSerializer(subscription).data, renderer.media_type))

    def check_if_match(self, request, subscription):
        header = request.headers.get("If-Match")
        if header is None or not header.strip():
            raise PreconditionRequired()
        etags = parse_etags(header)
        current = self.representation_etag(subscription)
        if "*" not in etags and current not in etags:
            raise PreconditionFailed(
                f"This subscription changed since you read it (If-Match {header}, now {current}); "
                "nothing was written. GET it again and reapply your change."
            )

    @transaction.atomic
    def update(self, request, *args, **kwargs):
        if not kwargs.get("partial"):
            return Response({"detail": "Use PATCH."}, status=status.HTTP_405_METHOD_NOT_ALLOWED)
        _refuse_unknown(request.data, WRITABLE)
        # Locked from the If-Match check to the save: a write racing in between waits, then is
        # checked against what this one wrote.
        subscription = self.get_queryset().select_for_update().filter(pk=self.get_object().pk).get()
        data = _validated(WebhookSerializer(subscription, data=request.data, partial=True))
        # After the body's own checks (RFC 9110 §13.2.1): a bad body is a 400 whatever If-Match says.
        self.check_if_match(request, subscription)
        try:
            webhooks.webhook_update(subscription=subscription, **data)
        except DjangoValidationError as exc:
            raise _as_api_error(exc) from None
        response = Response(WebhookSerializer(subscription).data)
        response["ETag"] = self.representation_etag(subscription)
        return response

    @extend_schema(
        request=None,
        responses={
            200: OpenApiResponse(
                WebhookWithSecretSerializer, description="The subscription and its new secret."
            ),
            **errors(401, 403, 404, 429),
        },
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new secret, used from the next delivery on; the old one stops at once."""
        subscription = webhooks.webhook_rotate_secret(subscription=self.get_object())
        return Response(WebhookWithSecretSerializer(subscription).data)

    @extend_schema(
        responses={
            200: OpenApiResponse(
                DeliverySerializer(many=True), description="The delivery log, a page of it."
            ),
            **errors(400, 401, 404, 429),
        }
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """The delivery log, newest first: each attempt's status code, latency and error."""
        subscription = self.get_object()
        queryset = (
            subscription.deliveries.select_related("event").prefetch_related("attempt_log").order_by("-pk")
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(
        request=ReplaySerializer,
        responses={
            202: OpenApiResponse(DeliverySerializer, description="Queued: the delivery, sent again soon."),
            **errors(400, 401, 403, 404, 429),
        },
    )
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        """Send an event to this subscription again (same event id: receivers deduplicate on it)."""
        subscription = self.get_object()
        _refuse_unknown(request.data, ("event",))
        data = _validated(ReplaySerializer(data=request.data))
        event = Event.objects.filter(uid=data["event"]).first()
        if event is None or not (
            subscription.deliveries.filter(event=event).exists()
            or (
                subscription.wants(event.kind)
                and webhooks.filter_matches(subscription.filter_query, event.jurisdiction_id)
            )
        ):
            raise ValidationError({"event": ["No such event for this subscription."]})
        delivery = webhooks.delivery_replay(subscription=subscription, event=event)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
