"""Jurisdictions: their identity fields."""

from django.db import transaction

from alerts.services import events
from alerts.services.events import events_record

from ..models import Jurisdiction
from .common import (
    JURISDICTION_FIELDS,
    assign,
    create_once,
    lock_for_update,
    next_version,
    save_audited,
    sync,
)


@transaction.atomic
def jurisdiction_create(*, user, via, **fields):
    """Add a jurisdiction; a twin created at the same moment is a DuplicateRecordError (409)."""
    jurisdiction = Jurisdiction()
    assign(jurisdiction, fields, JURISDICTION_FIELDS)
    jurisdiction.clean()  # the slug, when not given, before the message below names it
    created = create_once(
        jurisdiction,
        user=user,
        via=via,
        exists={"slug": f"A jurisdiction with the slug “{jurisdiction.slug}” or this GEOID exists already."},
    )
    events_record([events.jurisdiction_added(jurisdiction_id=created.pk)])
    return created


@transaction.atomic
def jurisdiction_update(*, jurisdiction, user, via, expected_version=None, **fields):
    """Change a jurisdiction's identity fields; refuses with StaleWriteError over a newer version."""
    current = lock_for_update(jurisdiction, expected_version=expected_version)
    if assign(current, fields, JURISDICTION_FIELDS):
        current.full_clean()
        current.version = next_version(current.version)
        save_audited(current, user=user, via=via)
    sync(jurisdiction, current)
    return current
