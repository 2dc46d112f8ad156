"""Writing an import's plan: the differences `plan.Plan` found, in bulk through `db.bulk`, with
the versions, history stamps, status-change rows and cache bump the services decide."""

import itertools
import operator

from alerts.services import events
from alerts.services.events import events_record

from .. import services
from ..db import bulk, stats
from ..models import Certification, Enrollment, Jurisdiction, Source, StatusChange

IDENTITY_FIELDS = ["name", "state", "kind", "geoid", "ocd_id"]
# The tables a bulk load fills, whose planner statistics it refreshes (db/stats.py).
BULK_MODELS = (Source, Jurisdiction, Enrollment, Certification, StatusChange)
ANALYZE_AFTER_ROWS = 1_000
ENROLLMENT_FIELDS = [
    "status",
    "site_type",
    "letter_sent_on",
    "response_due_on",
    "joined_on",
    "notes",
    "source_id",
    "site_type_source_id",
]
# An answer's stored values, in the order of the tuples `bulk.ImportScope` reads.
ANSWER_FIELDS = (
    "answer",
    "facility_operator",
    "legal_basis",
    "citation",
    "evidence_url",
    "certified_by",
    "certified_on",
    "source_id",
    "basis",
    "second_source_id",
)
ANSWER_INDEX = {name: i + 1 for i, name in enumerate(ANSWER_FIELDS)}  # after the pk
NEW_ANSWER_COLUMNS = ["enrollment_id", "requirement_id", *ANSWER_FIELDS]
BLANK_DETAILS = ("", "", "", "", "", None, None, "", None)  # the ANSWER_FIELDS after the answer
NEW_JURISDICTION_COLUMNS = ["slug", *IDENTITY_FIELDS]
NEW_ENROLLMENT_COLUMNS = ["jurisdiction_id", "program_id", *ENROLLMENT_FIELDS]


def write_new_jurisdictions(plan, db=None):
    """The file's new jurisdictions ({slug: id}): the largest insert, made early (see `Plan`)."""
    ids = bulk.write_new(
        Jurisdiction,
        NEW_JURISDICTION_COLUMNS,
        list(plan.new_jurisdictions.values()),
        now=plan.stamp.now,
        history=plan.stamp.history,
        db=db,
    )
    return dict(zip(plan.new_jurisdictions, ids, strict=True))


def apply_plan(plan):
    """Write everything the plan found, inside the caller's transaction."""
    stamp = plan.stamp
    now, history = stamp.now, stamp.history
    bulk.create_objects(list(plan.new_sources.values()), Source, now=now, history=history)
    for s in plan.changed_sources.values():
        s.updated_at = now
    bulk.update_objects(
        list(plan.changed_sources.values()),
        Source,
        ["publisher", "published_on", "updated_at"],
        history=history,
    )

    new_ids = plan.new_jurisdiction_ids
    if new_ids is None:
        new_ids = write_new_jurisdictions(plan)
    for j in plan.changed_jurisdictions.values():
        j.version = services.next_version(j.version)
        j.updated_at = now
    bulk.update_objects(
        list(plan.changed_jurisdictions.values()),
        Jurisdiction,
        IDENTITY_FIELDS + ["version", "updated_at"],
        history=history,
    )

    for e in plan.new_enrollments:
        known = plan.jurisdictions.get(e.slug)
        e.jurisdiction_id = known.pk if known else new_ids[e.slug]
        e.source_id = e.source.pk if e.source else None
        e.site_type_source_id = e.site_type_source.pk if e.site_type_source else None
    ids = bulk.write_new(
        Enrollment,
        NEW_ENROLLMENT_COLUMNS,
        list(map(operator.attrgetter(*NEW_ENROLLMENT_COLUMNS), plan.new_enrollments)),
        now=now,
        history=history,
    )
    for e, pk in zip(plan.new_enrollments, ids, strict=True):
        e.pk = pk
    changed_enrollments = [e for e, _ in plan.changed_enrollments]
    for e in changed_enrollments:
        e.source_id = e.source.pk if e.source else None
        e.site_type_source_id = e.site_type_source.pk if e.site_type_source else None
        e.version = services.next_version(e.version)
        e.updated_at = now
    bulk.update_objects(
        changed_enrollments, Enrollment, ENROLLMENT_FIELDS + ["version", "updated_at"], history=history
    )
    _write_answers(plan)

    steps = [(e, "") for e in plan.new_enrollments] + plan.changed_enrollments
    events_record(_events_of(plan, steps, new_ids))
    bulk.write_new(
        StatusChange,
        list(services.STATUS_CHANGE_COLUMNS),
        [
            operator.itemgetter(*services.STATUS_CHANGE_COLUMNS)(
                services.status_change_values(
                    enrollment=e,
                    from_status=previous,
                    user_id=stamp.user_id,
                    via=stamp.via,
                    note=stamp.reason,
                    changed_at=now,
                )
            )
            for e, previous in steps
            if previous != e.status
        ],
        now=now,
    )

    # A jurisdiction's updated_at covers its enrollments and answers, for `updated_since`.
    touched = {e.jurisdiction_id for e in itertools.chain(plan.new_enrollments, changed_enrollments)}
    touched |= {e.jurisdiction_id for e, _, _ in plan.answer_changes}
    touched -= set(new_ids.values())
    touched -= {j.pk for j in plan.changed_jurisdictions.values()}
    bulk.touch(Jurisdiction, touched, now=now)
    # A bulk load leaves the planner without statistics on what it wrote until autovacuum gets
    # there (at 90,000 rows a list's count went from 20 to 200 ms): refresh them now, in the
    # import's own transaction. A small file does not move the statistics enough to pay for it.
    written = len(new_ids) + len(plan.new_enrollments) + len(changed_enrollments) + len(plan.answer_changes)
    if written >= ANALYZE_AFTER_ROWS:
        stats.analyze(BULK_MODELS)
    services.data_written()


def _events_of(plan, steps, new_ids):
    """The file's changes as alert events (alerts/services/events.py), as the per-row services
    record them: new jurisdictions, status changes, changed answers of stored enrollments."""
    yield from (events.jurisdiction_added(jurisdiction_id=pk) for pk in new_ids.values())
    yield from (events.status_changed(enrollment=e, from_status=p) for e, p in steps if p != e.status)
    for e, requirement_id, wanted in plan.answer_changes:
        known = plan.scope.certifications.get((e.pk, requirement_id))
        before = known[ANSWER_INDEX["answer"]] if known else None
        if "answer" in wanted and wanted["answer"] != before:
            yield events.answer_changed(
                enrollment=e, requirement_id=requirement_id, from_answer=before, to_answer=wanted["answer"]
            )


def _write_answers(plan):
    now, history = plan.stamp.now, plan.stamp.history
    new_answers = []
    for e in plan.new_enrollments:
        for pk, answer, details in e.answers:
            new_answers.append((e.pk, pk, answer, *_detail_tuple(details)))
    changing = [
        plan.scope.certifications[(e.pk, pk)][0]
        for e, pk, _ in plan.answer_changes
        if (e.pk, pk) in plan.scope.certifications
    ]
    stored = bulk.in_bulk(Certification, changing)
    changed_answers, fields = [], {"version", "updated_at"}
    for enrollment, requirement_id, wanted in plan.answer_changes:
        known = plan.scope.certifications.get((enrollment.pk, requirement_id))
        if known is None:
            details = {f: v for f, v in wanted.items() if f != "answer"}
            new_answers.append(
                (enrollment.pk, requirement_id, wanted["answer"], *_detail_tuple(details or None))
            )
            continue
        existing = stored[known[0]]
        for name, value in wanted.items():
            if name in ("source", "second_source"):
                setattr(existing, f"{name}_id", value.pk if value is not None else None)
                fields.add(f"{name}_id")
            else:
                setattr(existing, name, value)
                fields.add(name)
        existing.version = services.next_version(existing.version)
        existing.updated_at = now
        changed_answers.append(existing)
    bulk.write_new(Certification, NEW_ANSWER_COLUMNS, new_answers, now=now, history=history)
    bulk.update_objects(changed_answers, Certification, sorted(fields), history=history)


def _detail_tuple(details):
    """The ANSWER_FIELDS after the answer, for a new answer: the file's details, else blanks."""
    if not details:
        return BLANK_DETAILS
    source = details.get("source")
    second = details.get("second_source")
    return (
        details.get("facility_operator", ""),
        details.get("legal_basis", ""),
        details.get("citation", ""),
        details.get("evidence_url", ""),
        details.get("certified_by", ""),
        details.get("certified_on"),
        source.pk if source is not None else None,
        details.get("basis", ""),
        second.pk if second is not None else None,
    )
