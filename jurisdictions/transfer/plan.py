"""An import's plan: every row compared with the database, each change decided by the services'
rules; `apply.apply_plan` then writes the differences in bulk through `db.bulk`.

Nothing here decides a rule of its own: who may set participating (`services.status_permission_error`),
the participating rule (`services.participation_errors`), the join date (`services.joined_on_for`),
who runs a not-applicable facility (`services.validation.answer_operator_error`), versions
(`services.next_version`), history stamps (`services.Stamp`), status-change rows
(`services.status_change_values`) and the cache (`services.data_written`) are the per-row
services' own decisions, applied to many rows at once.
"""

from dataclasses import dataclass, field

from django.utils import timezone

from .. import services
from ..db import bulk
from ..models import Certification, Enrollment, Program, Requirement, Source
from ..services.validation import answer_operator_error
from .apply import (
    ANSWER_FIELDS,
    ANSWER_INDEX,
    BLANK_DETAILS,
    ENROLLMENT_FIELDS,
    IDENTITY_FIELDS,
    apply_plan,
    write_new_jurisdictions,
)
from .parse import RowError

UNKNOWN = Certification.Answer.UNKNOWN.value
NOT_APPLICABLE = Certification.Answer.NOT_APPLICABLE.value
PARTICIPATING = Enrollment.Status.PARTICIPATING


@dataclass
class RowChange:
    line: int
    slug: str
    program: str
    action: str  # "new", "changed" or "unchanged"
    changes: list = field(default_factory=list)


class NewEnrollment:
    """An enrollment the file adds, lighter than a model instance (a national file adds some
    76,000); `pk` is set once it is written."""

    __slots__ = (
        "slug",
        "program_id",
        *(f for f in ENROLLMENT_FIELDS if f not in ("source_id", "site_type_source_id")),
        "source",  # a Source, perhaps new: its id is known once sources are written
        "source_id",
        "site_type_source",
        "site_type_source_id",
        "jurisdiction_id",
        "answers",  # [(requirement id, answer, {field: value} from the file or None)]
        "pk",
    )

    def __init__(self, slug, program_id, values, answers):
        self.slug, self.program_id, self.answers = slug, program_id, answers
        for name, value in values.items():
            setattr(self, name, value)


class Plan:
    """Every row checked against the database; `apply` then writes the differences in bulk."""

    def __init__(self, reader, checked, report, *, lock, may_admit, stamp=None):
        self.reader = reader
        self.may_admit = may_admit
        self.stamp = stamp  # given when the plan is to be applied
        self.today = timezone.localdate(stamp.now if stamp else None)  # for the join date
        self.report = report
        self.requirement_keys = {p: [(r.pk, r.code) for r in rs] for p, rs in reader.requirements.items()}
        self.scope = bulk.ImportScope(
            {row["slug"] for _, row in checked},
            {row["geoid"] for _, row in checked if row["geoid"]},
            lock=lock,
            answer_fields=ANSWER_FIELDS,
        )
        self.jurisdictions = self.scope.jurisdictions
        self.sources = self.scope.sources
        self.new_jurisdictions = {}  # slug: values of NEW_JURISDICTION_COLUMNS, from its first row
        for cells, row in checked:
            slug = row["slug"]
            if not cells.errors and slug not in self.jurisdictions and slug not in self.new_jurisdictions:
                self.new_jurisdictions[slug] = (slug, *(row[f] for f in IDENTITY_FIELDS))
        self.changed_jurisdictions = {}
        self.new_enrollments = []
        self.changed_enrollments = []  # (stored Enrollment, its status before the file)
        self.new_sources = {}
        self.changed_sources = {}
        self.answer_changes = []  # (stored Enrollment, requirement id, {field: value})
        # An import that will be applied writes its new jurisdictions, the largest insert, while
        # the rest of each row is checked and compared; a file found invalid rolls that write back
        # with the rest of the transaction.
        early = None
        if stamp is not None and self.new_jurisdictions and bulk.can_write_beside():
            early = self._write_jurisdictions
        with bulk.Beside(early) as writer:
            rows = [row for cells, row in checked if self._checked(cells, row) is not None]
            seen_identity, seen_pairs = {}, set()
            for row in rows:
                self._diff(row, seen_identity, seen_pairs)
        # A write refused by the database (a GEOID taken, say) is expected when rows are in error:
        # the report names them, and the transaction is rolled back.
        if writer.error is not None and self.report.ok:
            raise writer.error
        self.new_jurisdiction_ids = writer.result  # slug: id, when already written

    def _checked(self, cells, row):
        row = self.reader.rest(cells, row)
        if cells.errors:
            self.report.errors.extend(cells.errors)
        return row

    # -- comparing -----------------------------------------------------------------------------

    def _error(self, line, column, message):
        self.report.errors.append(RowError(line, column, message))

    def _diff(self, row, seen_identity, seen_pairs):
        line, slug = row["line"], row["slug"]
        identity = {f: row[f] for f in IDENTITY_FIELDS}
        errors = len(self.report.errors)
        if slug in seen_identity and seen_identity[slug] != identity:
            self._error(line, "slug", f"“{slug}” appears again with other name, state, kind or ids.")
        seen_identity.setdefault(slug, identity)
        owner = self.scope.geoid_owner.get(row["geoid"])
        if row["geoid"] and owner and owner != slug:
            self._error(line, "geoid", f"GEOID {row['geoid']} already belongs to “{owner}”.")
        program = row["program"]
        if program is not None:
            if (slug, program.pk) in seen_pairs:
                self._error(line, "program", f"“{slug}” is listed in program “{program.slug}” twice.")
            seen_pairs.add((slug, program.pk))
        if len(self.report.errors) > errors:
            return
        self.scope.geoid_owner.setdefault(row["geoid"], slug)

        changes = []
        jurisdiction = self.jurisdictions.get(slug)
        if jurisdiction is None:
            action = "new"
        else:
            action = "unchanged"
            for f in IDENTITY_FIELDS:
                if getattr(jurisdiction, f) != identity[f]:
                    changes.append(f)
                    setattr(jurisdiction, f, identity[f])
            if changes:
                self.changed_jurisdictions[slug] = jurisdiction
        if program is not None:
            action = self._diff_enrollment(row, jurisdiction, program, action, changes)
            if action is None:
                return
        if action == "unchanged" and changes:
            action = "changed"
        self.report.rows.append(RowChange(line, slug, program.slug if program else "", action, changes))

    def _diff_enrollment(self, row, jurisdiction, program, action, changes):
        line, slug = row["line"], row["slug"]
        enrollment = self.scope.enrollments.get((jurisdiction.pk, program.pk)) if jurisdiction else None
        previous = enrollment.status if enrollment is not None else ""
        refusal = services.status_permission_error(
            may_admit=self.may_admit, from_status=previous, to_status=row["status"]
        )
        source = self._source(row["source"], changes)
        site_type_source = self._source(row["site_type_source"], changes)
        values = {
            "status": row["status"],
            "site_type": row["site_type"],
            "letter_sent_on": row["letter_sent_on"],
            "response_due_on": row["response_due_on"],
            "joined_on": services.joined_on_for(
                from_status=previous,
                to_status=row["status"],
                joined_on=row["joined_on"],
                stored_joined_on=enrollment.joined_on if enrollment is not None else None,
                today=self.today,
            ),
            "notes": row["notes"],
            "source": source,
            "site_type_source": site_type_source,
        }
        program_id = program.pk
        keys = self.requirement_keys.get(program_id, [])
        known = {}  # requirement id: stored answer tuple (pk, *ANSWER_FIELDS)
        if enrollment is not None:
            enrollment_id, certifications = enrollment.pk, self.scope.certifications
            for pk, _ in keys:
                stored_answer = certifications.get((enrollment_id, pk))
                if stored_answer is not None:
                    known[pk] = stored_answer
        stored = {pk: answer[1] for pk, answer in known.items()}
        effective = dict.fromkeys((pk for pk, _ in keys), UNKNOWN) | stored | row["answers"]
        rule = services.participation_errors(
            status=row["status"], requirements=self.reader.requirements.get(program.pk, []), answers=effective
        )
        if rule:
            self._error(line, "status", rule[0])
            return None
        details = row["details"]
        failed = False
        # Only a not_applicable answer has a facility to name (most rows have none: skipped whole).
        for pk, code in keys if NOT_APPLICABLE in effective.values() else ():
            given = details.get(pk, {})
            operator_ = given.get("facility_operator")
            if operator_ is None:
                operator_ = known[pk][ANSWER_INDEX["facility_operator"]] if pk in known else ""
            message = answer_operator_error(answer=effective[pk], facility_operator=operator_)
            if message:
                self._error(line, f"{code}_operator", message)
                failed = True
        if failed:
            return None
        if refusal:
            self._error(line, "status", refusal)
            return None

        if enrollment is None:
            answers = []
            for pk, code in keys:
                given = details.get(pk)
                if given is not None and given is not self.reader.blank_details.get(code):
                    given = self._answer_values(given, changes)
                else:
                    given = None  # no details, or all blank: a new answer's details are blank anyway
                answers.append((pk, effective[pk], given))
            self.new_enrollments.append(NewEnrollment(slug, program.pk, values, answers))
            if action == "unchanged":
                action, changes[:] = "changed", changes + [f"enrolled in {program.slug}"]
            return action
        changed = [
            f
            for f, v in values.items()
            if f not in ("source", "site_type_source") and getattr(enrollment, f) != v
        ]
        # Compared by id: reading enrollment.source would cost one query per row.
        for name, cited in (("source", source), ("site_type_source", site_type_source)):
            stored_id = getattr(enrollment, f"{name}_id")
            if cited is None:
                if stored_id is not None:
                    changed.append(name)
            elif cited.pk is None or cited.pk != stored_id:
                changed.append(name)
        for f in changed:
            setattr(enrollment, f, values[f])
        if changed:
            self.changed_enrollments.append((enrollment, previous))
            changes += changed
        blank = self.reader.blank_details
        for pk, code in keys:
            stored_answer = known.get(pk)
            given = details.get(pk)
            if (
                stored_answer is not None
                and stored_answer[1] == effective[pk]
                and given is blank.get(code)
                and (
                    given is None
                    or (len(given) == len(ANSWER_FIELDS) - 1 and stored_answer[2:] == BLANK_DETAILS)
                )
            ):
                continue  # the usual row: same answer, no details given or none stored
            wanted = {"answer": effective[pk]}
            if given is not None:
                wanted.update(self._answer_values(given, changes))
            if stored_answer is not None:
                wanted = {
                    f: v
                    for f, v in wanted.items()
                    if not _same(f, v, stored_answer[ANSWER_INDEX[_attname(f)]])
                }
            if wanted:
                self.answer_changes.append((enrollment, pk, wanted))
                if stored_answer is not None:
                    changes.append(code)
        return action

    def _answer_values(self, given, changes):
        values = dict(given)
        for name in ("source", "second_source"):
            if name in values:
                values[name] = self._source(values[name], changes)
        return values

    def _source(self, values, changes):
        if values is None:
            return None
        title, url, publisher, published_on = values
        key = (title, url)
        source = self.sources.get(key)
        if source is None:
            source = Source(title=title, url=url, publisher=publisher, published_on=published_on)
            self.sources[key] = source
            self.new_sources[key] = source
        elif (source.publisher, source.published_on) != (publisher, published_on) and source.pk:
            source.publisher, source.published_on = publisher, published_on
            if key not in self.changed_sources:
                self.changed_sources[key] = source
                changes.append("source details")
        return source

    # -- writing -------------------------------------------------------------------------------

    def _write_jurisdictions(self, db=None):
        return write_new_jurisdictions(self, db)

    def apply(self):
        apply_plan(self)


SOURCE_NAMES = ("source", "second_source")


def _attname(name):
    return f"{name}_id" if name in SOURCE_NAMES else name


def _same(name, value, stored):
    if name in SOURCE_NAMES:
        return (
            value is not None
            and value.pk is not None
            and value.pk == stored
            or (value is None and stored is None)
        )
    return value == stored


def programs_and_requirements():
    programs = {p.slug: p for p in Program.objects.all()}
    requirements = {}
    for r in Requirement.objects.order_by("order", "code"):
        requirements.setdefault(r.program_id, []).append(r)
    return programs, requirements
