"""The one place a change becomes events: `events_record`, called inside the write's transaction by
the per-row services (jurisdictions/services/) and the bulk import (jurisdictions/transfer/apply.py).

The events are rows written with the change (a transactional outbox): a change that rolls back
leaves none, and one that commits cannot lose them. After the commit the worker is asked to
deliver them (`on_commit`); its periodic sweep finds any whose request was lost (a worker or
database restart between the commit and the enqueue).
"""

from dataclasses import dataclass, field

from django.db import transaction

from ..models import EmailSubscription, Event, WebhookSubscription

Kind = Event.Kind


@dataclass(frozen=True)
class Change:
    """What changed, by ids (the bulk path has no objects); `events_record` adds the names."""

    kind: str
    jurisdiction_id: int
    program_id: int | None = None
    requirement_id: int | None = None
    before: str | None = None
    after: str | None = None
    extra: dict = field(default_factory=dict)


def status_changed(*, enrollment, from_status):
    return Change(
        Kind.STATUS_CHANGED,
        enrollment.jurisdiction_id,
        program_id=enrollment.program_id,
        before=from_status or None,
        after=enrollment.status,
    )


def answer_changed(*, enrollment, requirement_id, from_answer, to_answer):
    return Change(
        Kind.ANSWER_CHANGED,
        enrollment.jurisdiction_id,
        program_id=enrollment.program_id,
        requirement_id=requirement_id,
        before=from_answer,
        after=to_answer,
    )


def answer_change_of(certification):
    """The change of a per-row answer save (called before the save), or None when the answer
    itself stays (only its details change)."""
    stored = type(certification).objects.values_list("answer", flat=True).get(pk=certification.pk)
    if stored == certification.answer:
        return None
    return answer_changed(
        enrollment=certification.enrollment,
        requirement_id=certification.requirement_id,
        from_answer=stored,
        to_answer=certification.answer,
    )


def jurisdiction_added(*, jurisdiction_id):
    return Change(Kind.JURISDICTION_ADDED, jurisdiction_id)


def correction(
    *, jurisdiction_id, program_id=None, requirement_id=None, field_name="", before=None, after=None, note=""
):
    """A correction of a recorded fact (issue 14's correction service calls `correction_record`)."""
    return Change(
        Kind.CORRECTION,
        jurisdiction_id,
        program_id=program_id,
        requirement_id=requirement_id,
        before=before,
        after=after,
        extra={"field": field_name, "note": note},
    )


def anyone_listening():
    """Events are kept only while someone subscribes: a database nobody watches (a benchmark, a
    fresh import) pays one query, not a row per change."""
    return (
        WebhookSubscription.objects.filter(active=True).exists()
        or EmailSubscription.objects.filter(confirmed_at__isnull=False).exists()
    )


def events_record(changes):
    """Record one event per change, in the caller's transaction; returns the events written."""
    changes = [c for c in changes if c is not None]
    if not changes or not anyone_listening():
        return []
    from jurisdictions.models import Jurisdiction, Program, Requirement

    jurisdictions = Jurisdiction.objects.in_bulk({c.jurisdiction_id for c in changes})
    programs = Program.objects.in_bulk({c.program_id for c in changes if c.program_id})
    requirements = Requirement.objects.in_bulk({c.requirement_id for c in changes if c.requirement_id})
    events = []
    for c in changes:
        j = jurisdictions.get(c.jurisdiction_id)
        data = {
            "jurisdiction": j and {"slug": j.slug, "name": j.name, "state": j.state, "kind": j.kind},
        }
        if c.program_id:
            data["program"] = programs[c.program_id].slug
        if c.requirement_id:
            data["requirement"] = requirements[c.requirement_id].code
        if c.kind != Kind.JURISDICTION_ADDED:
            data["from"], data["to"] = c.before, c.after
        data.update(c.extra)
        events.append(Event(kind=c.kind, jurisdiction_id=c.jurisdiction_id, payload=data))
    Event.objects.bulk_create(events, batch_size=1000)
    transaction.on_commit(request_delivery)
    return events


def correction_record(**kwargs):
    """Record a correction event (see `correction` for the arguments)."""
    return events_record([correction(**kwargs)])


def request_delivery():
    """Ask the worker to deliver what is due (after the commit, so it sees the events)."""
    from ..tasks import pump

    try:
        pump.enqueue()
    except Exception:
        import logging

        logging.getLogger("alerts").exception("Could not enqueue the delivery task; the sweep will.")
