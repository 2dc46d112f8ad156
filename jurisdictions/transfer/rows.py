"""Each row of an import file checked cell by cell, before anything is compared with the database.

Every limit and pattern is the model field's (`services.validation.field_check`, `max_length`);
the choices are the models' TextChoices. Messages name the column and say what to write instead.
"""

import operator

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator

from ..models import NOTES_MAX_LENGTH, Certification, Enrollment, Jurisdiction, Source, State, geoid_error
from ..services.validation import field_check, max_length
from .format import (
    ANSWER_DETAIL_FIELDS,
    ANSWER_SOURCE_SUFFIXES,
    ENROLLMENT_COLUMNS,
    FIXED_COLUMNS,
    split_answer_column,
)
from .parse import RowError, parse_date

# Choice values as sets: `TextChoices.values` builds a new list on every call (90,000 rows x 5).
STATES = frozenset(State.values)
KINDS = frozenset(Jurisdiction.Kind.values)
STATUSES = frozenset(Enrollment.Status.values)
SITE_TYPES = frozenset(Enrollment.SiteType.values)
ANSWERS = frozenset(Certification.Answer.values)
DATE_COLUMNS = ["letter_sent_on", "response_due_on", "joined_on", "source_date", "site_type_source_date"]
# A cell of a column without a length of its own (choices, dates) is refused past this.
MAX_CELL = NOTES_MAX_LENGTH
SOURCE_FIELDS = {
    "source_title": "title",
    "source_publisher": "publisher",
    "source_url": "url",
    "source_date": "published_on",
}
# Field lengths come from the models so that a value the database would refuse is a row error.
MAX_LENGTHS = {
    "slug": max_length(Jurisdiction, "slug"),
    "name": max_length(Jurisdiction, "name"),
    "ocd_id": max_length(Jurisdiction, "ocd_id"),
    "notes": max_length(Enrollment, "notes"),
    **{column: max_length(Source, name) for column, name in SOURCE_FIELDS.items() if name != "published_on"},
    **{
        f"site_type_{column}": max_length(Source, name)
        for column, name in SOURCE_FIELDS.items()
        if name != "published_on"
    },
}
CHECK_SLUG = field_check(Jurisdiction, "slug")
CHECK_GEOID = field_check(Jurisdiction, "geoid")
CHECK_OCD_ID = field_check(Jurisdiction, "ocd_id")
CHECK_SOURCE_URL = field_check(Source, "url")
CHECK_ANSWER = {
    field: field_check(Certification, field)
    for field in ("facility_operator", "legal_basis", "citation", "evidence_url", "certified_by", "basis")
}


def length_message(limit, value):
    """The words the model's own length validator uses, so that every door says the same."""
    try:
        MaxLengthValidator(limit)(value)
    except ValidationError as exc:
        return exc.messages[0]
    return None


class Cells:
    """One row's cells, each read with its length checked, and the errors found in them."""

    __slots__ = ("line", "record", "errors", "short", "limits")

    def __init__(self, line, record, limits, shortest):
        self.line, self.record, self.errors, self.limits = line, record, [], limits
        # When no cell is longer than the shortest limit, none needs checking.
        self.short = max(map(len, record.values()), default=0) <= shortest

    def get(self, column):
        value = self.record.get(column, "")
        if not self.short and len(value) > self.limits.get(column, MAX_CELL):
            self.error(column, length_message(self.limits.get(column, MAX_CELL), value))
        return value

    def error(self, column, message):
        self.errors.append(RowError(self.line, column, message))


def _cells_getter(columns):
    getter = operator.itemgetter(*columns)
    return getter if len(columns) > 1 else lambda record: (getter(record),)


class RowReader:
    """Checks rows of a file with this header against the programs and requirements."""

    def __init__(self, header, *, programs, requirements):
        self.programs = programs  # {slug: Program}
        self.requirements = requirements  # {program id: [Requirement]}
        codes = {r.code for rs in requirements.values() for r in rs}
        self.answer_columns = [c for c in header if c not in FIXED_COLUMNS]
        # {code: [(suffix, column)]}: the answer details this file carries.
        self.detail_columns = {}
        self.limits = dict(MAX_LENGTHS)
        for column in self.answer_columns:
            split = split_answer_column(column, codes)
            if split and split[1]:
                code, suffix = split
                self.detail_columns.setdefault(code, []).append((suffix, column))
                if suffix in ANSWER_DETAIL_FIELDS and suffix not in ("legal_basis", "certified_on"):
                    self.limits[column] = max_length(Certification, ANSWER_DETAIL_FIELDS[suffix])
                elif suffix.removeprefix("second_") in SOURCE_FIELDS and not suffix.endswith("_date"):
                    self.limits[column] = max_length(Source, SOURCE_FIELDS[suffix.removeprefix("second_")])
        self.code_columns = [c for c in self.answer_columns if c in codes]
        self.blank_details = {code: self._blank(columns) for code, columns in self.detail_columns.items()}
        self.details_seen = {}  # (code, detail cells): (values, errors), see `_details_of`
        # {code: record -> its detail cells}, read in one call (a national file has 230,000 answers).
        self.detail_cells = {
            code: _cells_getter([column for _, column in columns])
            for code, columns in self.detail_columns.items()
        }
        self.shortest = min(self.limits.values())

    def cells(self, line, record):
        return Cells(line, record, self.limits, self.shortest)

    def identity(self, cells):
        """The jurisdiction's cells of a row, checked: the first of two steps, so that the new
        jurisdictions are known (and written) before the rest of every row is checked."""
        row = {"line": cells.line}
        row["name"] = cells.get("name")
        if not row["name"]:
            cells.error("name", "A name is required.")
        state = cells.get("state").upper()
        if state not in STATES:
            cells.error("state", f"“{cells.get('state')}” is not a USPS state or territory code (e.g. TN).")
        row["state"] = state
        kind = cells.get("kind").lower()
        if kind not in KINDS:
            cells.error(
                "kind",
                f"“{cells.get('kind')}” is not a kind; use one of {', '.join(Jurisdiction.Kind.values)}.",
            )
        row["kind"] = kind
        slug = cells.get("slug").lower() or Jurisdiction.make_slug(row["name"], state)
        if CHECK_SLUG(slug):
            cells.error("slug", f"“{slug}” is not a slug: use lowercase letters, digits and hyphens.")
        row["slug"] = slug
        row["geoid"] = cells.get("geoid") or None
        row["ocd_id"] = cells.get("ocd_id")
        for column, check in (("geoid", CHECK_GEOID), ("ocd_id", CHECK_OCD_ID)):
            if row[column]:
                message = check(row[column])
                if message:
                    cells.error(column, message)
                elif column == "geoid" and state in STATES and kind in KINDS:
                    message = geoid_error(row["geoid"], state, kind)  # the model's rule (clean())
                    if message:
                        cells.error(column, message)
        return row

    def _date(self, cells, column):
        value = cells.get(column)
        if not value:
            return None
        try:
            return parse_date(value)
        except ValueError as exc:
            cells.error(column, str(exc))
            return None

    def _source(self, cells, prefix=""):
        """(title, url, publisher, published_on) of the source named by the `<prefix>source_*`
        cells, or None when they are blank."""
        title, url = cells.get(prefix + "source_title"), cells.get(prefix + "source_url")
        published_on = self._date(cells, prefix + "source_date")
        publisher = cells.get(prefix + "source_publisher")
        if url:
            message = CHECK_SOURCE_URL(url)
            if message:
                cells.error(
                    prefix + "source_url", f"“{url}” is not a web address starting with http:// or https://."
                )
        if title:
            return (title, url, publisher, published_on)
        if url or publisher or published_on:
            cells.error(prefix + "source_title", "A source needs a title.")
        return None

    def rest(self, cells, row):
        """The rest of the row: dates, enrollment, source and answers. The row, or None when any of
        its cells (in either step) is in error; the errors go to `errors`."""
        for column in ("letter_sent_on", "response_due_on", "joined_on"):
            row[column] = self._date(cells, column)
        if (
            row["letter_sent_on"]
            and row["response_due_on"]
            and row["response_due_on"] < row["letter_sent_on"]
        ):
            cells.error("response_due_on", "The response date is before the date the letter was sent.")

        program_slug = cells.get("program")
        row["program"] = None
        if program_slug:
            program = self.programs.get(program_slug)
            if program is None:
                cells.error("program", f"No program with the slug “{program_slug}”.")
            row["program"] = program
            status = cells.get("status")
            if status not in STATUSES:
                cells.error(
                    "status", f"“{status}” is not a status; use one of {', '.join(Enrollment.Status.values)}."
                )
            row["status"] = status
            site_type = cells.get("site_type").lower()
            if site_type and site_type not in SITE_TYPES:
                cells.error(
                    "site_type",
                    f"“{site_type}” is not a site type; use one of {', '.join(Enrollment.SiteType.values)}, "
                    "or leave it blank.",
                )
            row["site_type"] = site_type
            row["notes"] = cells.get("notes")
        elif any(cells.record.get(c) for c in ENROLLMENT_COLUMNS[1:] + ["notes"] + self.answer_columns):
            cells.error("program", "A row with a status, dates, notes or answers must name its program.")

        row["source"] = self._source(cells)
        row["site_type_source"] = self._source(cells, prefix="site_type_")
        row["answers"], row["details"] = self._answers(cells, row["program"], program_slug)
        if cells.errors:
            return None
        return row

    def _answers(self, cells, program, program_slug):
        """({requirement id: answer}, {requirement id: {field: value}}) of the row's answer cells.
        Details are given only with their answer, and only for the detail columns the file has."""
        answers, details = {}, {}
        if program is None:
            return answers, details  # the missing or unknown program is the error
        codes = {r.code: r for r in self.requirements.get(program.pk, [])}
        for column in self.code_columns:
            value = cells.get(column).lower()
            columns = self.detail_columns.get(column, ())
            if not value:
                given = [c for _, c in columns if cells.record.get(c)]
                if given:
                    cells.error(given[0], f"Answer details need the answer in column {column}.")
                continue
            if column not in codes:
                cells.error(
                    column,
                    f"“{column}” is not a requirement of program “{program_slug or '(none)'}”; leave it blank.",
                )
                continue
            if value not in ANSWERS:
                cells.error(
                    column,
                    f"“{value}” is not an answer; use one of {', '.join(Certification.Answer.values)}.",
                )
                continue
            pk = codes[column].pk
            answers[pk] = value
            if columns:
                given = self.detail_cells[column](cells.record)
                if any(given):
                    details[pk] = self._details_of(cells, column, columns, given)
                else:
                    # Most answers carry no details: one shared value, compared by identity in `plan`.
                    details[pk] = self.blank_details[column]
        return answers, details

    def _details_of(self, cells, code, columns, given):
        """`_details`, checked once for each distinct set of detail cells: a file repeats them (a
        citation, its legal basis and source for many answers). The values are never modified."""
        key = (code, given)
        found = self.details_seen.get(key)
        if found is None:
            scratch = self.cells(cells.line, cells.record)
            values = self._details(scratch, code, columns)
            found = self.details_seen[key] = (values, [(e.column, e.message) for e in scratch.errors])
        values, errors = found
        for column, message in errors:
            cells.error(column, message)
        return values

    @staticmethod
    def _blank(columns):
        """The details of an answer whose detail cells are all blank."""
        values = {}
        for suffix, _ in columns:
            if suffix in ANSWER_DETAIL_FIELDS:
                values[ANSWER_DETAIL_FIELDS[suffix]] = None if suffix == "certified_on" else ""
            elif suffix.startswith("second_"):
                values["second_source"] = None
            else:
                values["source"] = None
        return values

    def _details(self, cells, code, columns):
        values = {}
        for suffix, column in columns:
            if suffix not in ANSWER_DETAIL_FIELDS:
                continue  # the sources, below
            field = ANSWER_DETAIL_FIELDS[suffix]
            if field == "certified_on":
                values[field] = self._date(cells, column)
                continue
            value = cells.get(column)
            if field in ("legal_basis", "basis"):
                value = value.lower()
            if value:
                message = CHECK_ANSWER[field](value)
                if message:
                    cells.error(column, message)
            values[field] = value
        if any(suffix in ANSWER_SOURCE_SUFFIXES for suffix, _ in columns):
            values["source"] = self._source(cells, prefix=f"{code}_")
        if any(suffix.startswith("second_") for suffix, _ in columns):
            values["second_source"] = self._source(cells, prefix=f"{code}_second_")
        return values
