"""Who changed what, and through which door.

django-simple-history records every create, update and delete with the user and the values. We add
`history_via` (admin, API, import) so the audit trail also says how a change came in. Services and
importers set it explicitly with `audit_context`; otherwise it is inferred from the request path.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import models
from django.dispatch import receiver
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

_via: ContextVar[str | None] = ContextVar("audit_via", default=None)


class AuditedHistory(models.Model):
    history_via = models.CharField(
        max_length=10,
        blank=True,
        help_text="Through what the change came in: admin, api, import or system.",
    )

    class Meta:
        abstract = True


@contextmanager
def audit_context(via):
    token = _via.set(via)
    try:
        yield
    finally:
        _via.reset(token)


def current_via():
    explicit = _via.get()
    if explicit:
        return explicit
    request = getattr(HistoricalRecords.context, "request", None)
    if request is None:
        return "system"
    if request.path.startswith("/admin/"):
        return "admin"
    if request.path.startswith("/api/"):
        return "api"
    return "web"


@receiver(pre_create_historical_record)
def _stamp_via(sender, history_instance, **kwargs):
    if not getattr(history_instance, "history_via", ""):
        history_instance.history_via = current_via()
