"""CSV import: validate every row, show what would change, then apply all of it or nothing.

One implementation serves the `import_jurisdictions` command and the admin's import page. The
column format lives in `csvio`. Rows are matched on the jurisdiction's slug and the program, so
running the same file twice changes nothing the second time.
"""

import csv
import datetime
import io
import itertools
import operator
import re
import threading
from dataclasses import dataclass, field
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from ..audit import audit_context
from ..cache import note_write
from ..models import (
    Certification,
    Enrollment,
    Jurisdiction,
    Program,
    Requirement,
    Source,
    State,
    StatusChange,
    geoid_validator,
    ocd_id_validator,
    where_in,
)
from . import limits
from .csvio import (
    ENROLLMENT_COLUMNS,
    FORMULA_PREFIXES,
    JURISDICTION_COLUMNS,
    REQUIRED_COLUMNS,
    TAIL_COLUMNS,
    restore,
)

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_CELL = 10_000
VIA = StatusChange.Via.IMPORT
IDENTITY_FIELDS = ["name", "state", "kind", "geoid", "ocd_id"]
ENROLLMENT_FIELDS = [
    "status",
    "site_type",
    "letter_sent_on",
    "response_due_on",
    "joined_on",
    "notes",
    "source_id",
]
# Choice values as sets: `TextChoices.values` builds a new list on every call (90,000 rows x 5).
STATES = frozenset(State.values)
KINDS = frozenset(Jurisdiction.Kind.values)
STATUSES = frozenset(Enrollment.Status.values)
SITE_TYPES = frozenset(Enrollment.SiteType.values)
ANSWERS = frozenset(Certification.Answer.values)
UNKNOWN = Certification.Answer.UNKNOWN.value
NOT_APPLICABLE = Certification.Answer.NOT_APPLICABLE.value
DATE_COLUMNS = ["letter_sent_on", "response_due_on", "joined_on", "source_date"]
# Field lengths come from the models so that a value the database would refuse is a row error.
MAX_LENGTHS = {
    "slug": Jurisdiction._meta.get_field("slug").max_length,
    "name": Jurisdiction._meta.get_field("name").max_length,
    "ocd_id": Jurisdiction._meta.get_field("ocd_id").max_length,
    "source_title": Source._meta.get_field("title").max_length,
    "source_publisher": Source._meta.get_field("publisher").max_length,
    "source_url": Source._meta.get_field("url").max_length,
}
SHORTEST_LIMIT = min(MAX_LENGTHS.values())


SLUG = re.compile(r"[a-z0-9_-]+")
URL_VALIDATOR = URLValidator(schemes=["http", "https"])


def _validates(validator, value):
    try:
        validator(value)
    except ValidationError:
        return False
    return True


def _regex_check(validator):
    """A check by the model's RegexValidator: its message for an invalid value, or None.

    The pattern is tried directly and the validator called only to word a failure: calling it for
    every value (a lazy regex, then the message machinery) cost a 90,000-row file several seconds.
    """
    assert not validator.inverse_match
    pattern = re.compile(validator.regex.pattern, validator.regex.flags)

    def check(value):
        if pattern.search(value):
            return None
        try:
            validator(value)
        except ValidationError as exc:
            return exc.messages[0]
        return None

    return check


CHECK_GEOID = _regex_check(geoid_validator)
CHECK_OCD_ID = _regex_check(ocd_id_validator)


class ImportError_(Exception):
    """Raised inside the transaction to roll it back when a re-check under lock finds errors."""


class StoredAnswer(NamedTuple):
    pk: int
    answer: str
    facility_operator: str


@dataclass
class RowError:
    line: int
    column: str
    message: str

    def __str__(self):
        where = f"line {self.line}" if self.line else "file"
        column = f", column {self.column}" if self.column else ""
        return f"{where}{column}: {self.message}"


@dataclass
class RowChange:
    line: int
    slug: str
    program: str
    action: str  # "new", "changed" or "unchanged"
    changes: list = field(default_factory=list)


@dataclass
class ImportReport:
    filename: str = ""
    rows: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self):
        return not self.errors

    def counts(self):
        result = {"new": 0, "changed": 0, "unchanged": 0}
        for row in self.rows:
            result[row.action] += 1
        return result

    def summary(self):
        c = self.counts()
        return f"{c['new']} new, {c['changed']} changed, {c['unchanged']} unchanged"


def import_jurisdictions(data, *, filename="", user=None, commit=True, max_rows=limits.MAX_ROWS):
    """Validate `data` (bytes or text of a CSV file) and, when `commit` and valid, apply it.

    Returns an ImportReport. Nothing is written unless every row is valid; the write happens in one
    transaction, with the rows it changes locked, and is checked again under those locks.
    """
    report = ImportReport(filename=filename)
    parsed = _parse(data, report, max_rows)
    if parsed is None:
        return report
    header, records = parsed
    if not commit:
        _Plan(header, records, report, lock=False, may_admit=_may_admit(user))
        return report
    stamp = _Stamp.of(user, filename)
    try:
        with transaction.atomic():
            plan = _Plan(header, records, report, lock=True, may_admit=_may_admit(user), stamp=stamp)
            if not report.ok:
                raise ImportError_()
            with audit_context(VIA):
                plan.apply()
            report.applied = True
    except ImportError_:
        report.applied = False
    return report


@dataclass
class _Stamp:
    """Who and when for everything one import writes."""

    user: object
    reason: str
    now: datetime.datetime

    @classmethod
    def of(cls, user, filename):
        user = user if user is not None and user.is_authenticated else None
        reason = f"Imported from {filename}" if filename else "Imported from CSV"
        return cls(user, reason, timezone.now())

    @property
    def history(self):
        """simple-history's bulk arguments."""
        return {
            "default_user": self.user,
            "default_change_reason": self.reason,
            "default_date": self.now,
            "custom_historical_attrs": {"history_via": VIA},
        }


class _Beside:
    """Run `task(db)` on a second thread, over this thread's connection, while the `with` block runs.

    PostgreSQL inserts on one core while Python compares rows on the other. The connection is
    shared the way Django provides (`inc_thread_sharing`), and the block must not use it. After
    the block the task's return value is `result`, or the exception it raised is `error`.
    """

    def __init__(self, task):
        self.task = task
        self.result = None
        self.error = None

    def __enter__(self):
        if self.task is not None:
            self.db = connections[DEFAULT_DB_ALIAS]  # this thread's connection, not the proxy
            self.db.inc_thread_sharing()
            self.thread = threading.Thread(target=self._run, name="import-writer")
            self.thread.start()
        return self

    def _run(self):
        try:
            self.result = self.task(self.db)
        except BaseException as exc:  # re-raised on the calling thread
            self.error = exc

    def __exit__(self, exc_type, exc, tb):
        if self.task is not None:
            self.thread.join()
            self.db.dec_thread_sharing()
        return False


def _may_admit(user):
    # The reviewer's permission, as in services.may_admit (None is the command line's operator).
    return user is None or user.has_perm("jurisdictions.admit_enrollment")


def _parse(data, report, max_rows=limits.MAX_ROWS):
    if isinstance(data, bytes):
        if len(data) > MAX_FILE_BYTES:
            report.errors.append(
                RowError(0, "", f"The file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB.")
            )
            return None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            report.errors.append(
                RowError(
                    0,
                    "",
                    f"The file is not UTF-8 text (byte {exc.start} cannot be read). Save it as CSV UTF-8.",
                )
            )
            return None
    else:
        text = data.removeprefix("\ufeff")
    if "\x00" in text:
        report.errors.append(RowError(0, "", "The file contains NUL bytes; it is not a CSV text file."))
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        report.errors.append(RowError(1, "", f"The header cannot be read as CSV: {exc}."))
        return None
    if not header or not any(h.strip() for h in header):
        report.errors.append(RowError(0, "", "The file is empty: the first line must name the columns."))
        return None
    header = [h.strip() for h in header]
    known = set(JURISDICTION_COLUMNS + ENROLLMENT_COLUMNS + TAIL_COLUMNS)
    codes = set(Requirement.objects.values_list("code", flat=True))
    problems = limits.header_errors(header)  # width and repeats, before any per-column work
    if problems:
        report.errors.extend(RowError(1, column, message) for column, message in problems)
        return None
    for name in header:
        if name not in known and name not in codes:
            report.errors.append(
                RowError(
                    1, name, "Unknown column: not a jurisdiction or enrollment field, nor a requirement code."
                )
            )
    for name in REQUIRED_COLUMNS:
        if name not in header:
            report.errors.append(RowError(1, name, "This required column is missing."))
    if not report.ok:
        return None
    records = []
    line = 1
    # Only a cell that starts with an apostrophe before a formula character needs `restore`:
    # when the file holds no such pair, the rows skip that call for each of their cells.
    exported = any("'" + c in text for c in FORMULA_PREFIXES)
    try:
        for cells in reader:
            start = line + 1
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(records) >= max_rows:
                report.errors.append(RowError(start, "", limits.too_many_rows(len(records), max_rows)))
                break
            if len(cells) != len(header):
                report.errors.append(
                    RowError(start, "", f"Expected {len(header)} cells, found {len(cells)}.")
                )
                continue
            cells = map(str.strip, cells)
            if exported:
                cells = map(restore, cells)
            records.append((start, dict(zip(header, cells, strict=True))))
    except csv.Error as exc:
        report.errors.append(RowError(line + 1, "", f"This line cannot be read as CSV: {exc}."))
    if not records and report.ok:
        report.errors.append(RowError(0, "", "The file has a header but no rows."))
    return header, records


def _parse_date(value):
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"“{value}” is not a date; write it as YYYY-MM-DD.") from None


# -- writing new rows --------------------------------------------------------------------------
STEP_COLUMNS = [
    "enrollment_id",
    "from_status",
    "to_status",
    "changed_at",
    "effective_on",
    "changed_by_id",
    "via",
    "note",
    "source_id",
]
# History columns written after the tracked fields, in this order.
HISTORY_EXTRA = ["history_date", "history_change_reason", "history_type", "history_user_id", "history_via"]


def _text(value):
    return str(value) if isinstance(value, datetime.date) else value


def _stamped(field):
    return getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)


class _CsvStream:
    """The file psycopg2 reads a COPY from: CSV lines formatted a chunk at a time as it asks, so that
    PostgreSQL inserts one chunk while Python formats the next."""

    def __init__(self, rows, chunk_rows=2000):
        self.rows = iter(rows)
        self.chunk_rows = chunk_rows
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\n")

    def read(self, size=-1):
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerows(itertools.islice(self.rows, self.chunk_rows))
        return self.buffer.getvalue()


def _copy_rows(cursor, model, attnames, rows):
    """COPY `rows` (tuples of the values of `attnames`) into `model`'s table.

    CSV with its default NULL, an unquoted empty cell: the NOT NULL columns are named in
    FORCE_NOT_NULL so that an empty cell there is an empty string, and an empty cell in a nullable
    column is NULL. No caller writes "" to a nullable text column (an empty GEOID is NULL, and the
    history's change reason is never empty), so no value changes on the way in.
    """
    fields = {f.attname: f for f in model._meta.concrete_fields}
    quote = cursor.db.ops.quote_name
    columns = ", ".join(quote(fields[a].column) for a in attnames)
    not_null = ", ".join(quote(fields[a].column) for a in attnames if not fields[a].null)
    cursor.copy_expert(
        f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN "
        f"WITH (FORMAT csv, FORCE_NOT_NULL ({not_null}))",
        _CsvStream(rows),
    )


def _write_new(model, attnames, values, *, now, history=None, db=None):
    """Insert rows given as tuples of the values of `attnames`; return their ids, in order.

    The other columns take their defaults, and the auto_now timestamps `now`. With `history`
    (simple-history's bulk arguments) each row also gets its "+" history record.

    On PostgreSQL the ids come from the sequence in one query and the rows go in with COPY:
    Django's bulk_create and simple-history's bulk_history_create prepare every value of every
    object in Python, and a 90,000-row file writes some 800,000 rows. Other databases use those
    helpers. `db` is the connection (another thread's, see _Beside), by default this thread's.
    """
    db = db or connections[DEFAULT_DB_ALIAS]
    if not values:
        return []
    if db.vendor != "postgresql":
        objs = [model(**dict(zip(attnames, v, strict=True))) for v in values]
        if history:
            bulk_create_with_history(objs, model, batch_size=2000, **history)
        else:
            model.objects.bulk_create(objs, batch_size=2000)
        return [obj.pk for obj in objs]

    pk = model._meta.pk.attname
    rest = [f for f in model._meta.concrete_fields if f.attname != pk and f.attname not in attnames]
    # Each row is read from one tuple: (id, *values, *defaults). The defaults are formatted once
    # here rather than by the csv writer on every row.
    constants = tuple(_text(now if _stamped(f) else f.get_default()) for f in rest)
    position = {name: i for i, name in enumerate([pk, *attnames, *(f.attname for f in rest)])}
    columns = [f.attname for f in model._meta.concrete_fields]
    row_of = operator.itemgetter(*(position[a] for a in columns))
    if history:
        user = history["default_user"]
        reason = history["default_change_reason"]
        if not reason:
            raise ValueError("An import's history records need a change reason.")
        via = (history.get("custom_historical_attrs") or {}).get("history_via", "")
        history_values = [now, reason, "+", user.pk if user else None, via]  # HISTORY_EXTRA
    with db.cursor() as cursor:
        # The sequence is looked up once (MATERIALIZED), not once per id.
        cursor.execute(
            "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) "
            "SELECT nextval(s.seq) FROM s CROSS JOIN generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, len(values)],
        )
        ids = [i for (i,) in cursor.fetchall()]
        rows = (row_of((i, *v, *constants)) for i, v in zip(ids, values, strict=True))
        _copy_rows(cursor, model, columns, rows)
        if history:
            _copy_history(cursor, model, ids, history_values)
    note_write(db)
    return ids


def _copy_history(cursor, model, ids, extra):
    """Write the "+" history records of the rows `ids` of `model`, copied by the database from the
    rows themselves: one INSERT ... SELECT instead of sending every value a second time."""
    historical = model.history.model
    quote = cursor.db.ops.quote_name
    tracked = [f.attname for f in historical.tracked_fields]
    target = [historical._meta.get_field(a).column for a in tracked + HISTORY_EXTRA]
    source = [model._meta.get_field(a).column for a in tracked]
    cursor.execute(
        f"INSERT INTO {quote(historical._meta.db_table)} ({', '.join(map(quote, target))}) "
        f"SELECT {', '.join(map(quote, source))}, {', '.join(['%s'] * len(extra))} "
        f"FROM {quote(model._meta.db_table)} WHERE {quote(model._meta.pk.column)} = ANY(%s)",
        [*extra, ids],
    )


def create_objects(objs, model, *, now, history=None):
    """Insert new model instances (and with `history`, their history), then mark them saved with
    their ids: `_write_new` for objects already built (new sources; the synthetic generator)."""
    if not objs:
        return
    attnames = [f.attname for f in model._meta.concrete_fields if not f.primary_key and not _stamped(f)]
    values_of = operator.attrgetter(*attnames)
    ids = _write_new(model, attnames, [values_of(obj) for obj in objs], now=now, history=history)
    stamped = [f.attname for f in model._meta.concrete_fields if _stamped(f)]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
        for attname in stamped:
            setattr(obj, attname, now)


class _NewEnrollment:
    """An enrollment the file adds, lighter than a model instance (a national file adds some
    76,000). It dates its status with the model's own rule; `pk` is set once it is written."""

    __slots__ = (
        "slug",
        "program_id",
        *(f for f in ENROLLMENT_FIELDS if f != "source_id"),
        "source",  # a Source, perhaps new: its id is known once sources are written
        "source_id",
        "jurisdiction_id",
        "answers",
        "pk",
    )
    Status = Enrollment.Status
    status_since = Enrollment.status_since
    _previous_status = ""

    def __init__(self, slug, program_id, values, answers):
        self.slug, self.program_id, self.answers = slug, program_id, answers
        for name, value in values.items():
            setattr(self, name, value)


NEW_JURISDICTION_COLUMNS = ["slug", *IDENTITY_FIELDS]
NEW_ENROLLMENT_COLUMNS = ["jurisdiction_id", "program_id", *ENROLLMENT_FIELDS]


class _Cells:
    """One row's cells, each read with its length checked, and the errors found in them."""

    __slots__ = ("line", "record", "errors", "short")

    def __init__(self, line, record):
        self.line, self.record, self.errors = line, record, []
        # When no cell is longer than the shortest limit, none needs checking.
        self.short = max(map(len, record.values()), default=0) <= SHORTEST_LIMIT

    def get(self, column):
        value = self.record.get(column, "")
        if not self.short and len(value) > MAX_LENGTHS.get(column, MAX_CELL):
            self.error(column, f"Longer than {MAX_LENGTHS.get(column, MAX_CELL)} characters.")
        return value

    def error(self, column, message):
        self.errors.append(RowError(self.line, column, message))


class _Plan:
    """Every row checked against the database; `apply` then writes the differences in bulk."""

    def __init__(self, header, records, report, *, lock, may_admit=True, stamp=None):
        self.may_admit = may_admit
        self.stamp = stamp  # given when the plan is to be applied
        self.header = header
        fixed = set(JURISDICTION_COLUMNS + ENROLLMENT_COLUMNS + TAIL_COLUMNS)
        self.answer_columns = [c for c in header if c not in fixed]
        self.report = report
        self.valid_urls = {}  # a file cites few sources: each URL is checked once
        self.programs = {p.slug: p for p in Program.objects.all()}
        self.requirements = {}
        for r in Requirement.objects.order_by("order", "code"):
            self.requirements.setdefault(r.program_id, []).append(r)
        # (id, code) pairs: read for every row, cheaper than `.pk` on each requirement.
        self.requirement_keys = {p: [(r.pk, r.code) for r in rs] for p, rs in self.requirements.items()}
        checked = [(cells, self._clean_identity(cells)) for cells in itertools.starmap(_Cells, records)]
        self._load(
            {row["slug"] for _, row in checked},
            {row["geoid"] for _, row in checked if row["geoid"]},
            lock=lock,
        )
        self.new_jurisdictions = {}  # slug: values of NEW_JURISDICTION_COLUMNS, from its first row
        for cells, row in checked:
            slug = row["slug"]
            if not cells.errors and slug not in self.jurisdictions and slug not in self.new_jurisdictions:
                self.new_jurisdictions[slug] = (slug, *(row[f] for f in IDENTITY_FIELDS))
        self.changed_jurisdictions = {}
        self.new_enrollments = []  # _NewEnrollment, carrying their answers
        self.changed_enrollments = []
        self.new_sources = {}
        self.changed_sources = {}
        self.answer_changes = []  # (stored enrollment, requirement id, answer)
        # An import that will be applied writes its new jurisdictions, the largest insert, while
        # the rest of each row is checked and compared; a file found invalid rolls that write back
        # with the rest of the transaction.
        early = None
        if stamp is not None and self.new_jurisdictions and connection.vendor == "postgresql":
            early = self._write_jurisdictions
        with _Beside(early) as writer:
            rows = [row for cells, row in checked if self._clean(cells, row) is not None]
            seen_identity = {}
            seen_pairs = set()
            for row in rows:
                self._diff(row, seen_identity, seen_pairs)
        # A write refused by the database (a GEOID taken, say) is expected when rows are in error:
        # the report names them, and the transaction is rolled back.
        if writer.error is not None and self.report.ok:
            raise writer.error
        self.new_jurisdiction_ids = writer.result  # slug: id, when already written

    # -- reading -------------------------------------------------------------------------------

    def _clean_identity(self, cells):
        """The jurisdiction's cells of a row, checked: the first of two steps, so that the new
        jurisdictions are known (and written) before the rest of every row is checked."""
        line = cells.line
        row = {"line": line}
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
        if not SLUG.fullmatch(slug):
            cells.error("slug", f"“{slug}” is not a slug: use lowercase letters, digits and hyphens.")
        row["slug"] = slug
        row["geoid"] = cells.get("geoid") or None
        row["ocd_id"] = cells.get("ocd_id")
        for column, check in (("geoid", CHECK_GEOID), ("ocd_id", CHECK_OCD_ID)):
            if row[column]:
                message = check(row[column])
                if message:
                    cells.error(column, message)
        return row

    def _clean(self, cells, row):
        """The rest of the row: dates, enrollment, source and answers. The row, or None when any of
        its cells (in either step) is in error; the errors go to the report."""
        for column in DATE_COLUMNS:
            value = cells.get(column)
            row[column] = None
            if value:
                try:
                    row[column] = _parse_date(value)
                except ValueError as exc:
                    cells.error(column, str(exc))
        if (
            row["letter_sent_on"]
            and row["response_due_on"]
            and row["response_due_on"] < row["letter_sent_on"]
        ):
            cells.error("response_due_on", "The response date is before the date the letter was sent.")

        program_slug = cells.get("program")
        row["program"] = None
        enrollment_columns = [
            "status",
            "site_type",
            "letter_sent_on",
            "response_due_on",
            "joined_on",
            "notes",
        ]
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
                    f"“{site_type}” is not a site type; use one of {', '.join(Enrollment.SiteType.values)}, or leave it blank.",
                )
            row["site_type"] = site_type
            row["notes"] = cells.get("notes")
        elif any(cells.record.get(c) for c in enrollment_columns + self.answer_columns):
            cells.error("program", "A row with a status, dates, notes or answers must name its program.")

        row["source"] = None
        title, url = cells.get("source_title"), cells.get("source_url")
        if url:
            if url not in self.valid_urls:
                self.valid_urls[url] = _validates(URL_VALIDATOR, url)
            if not self.valid_urls[url]:
                cells.error("source_url", f"“{url}” is not a web address starting with http:// or https://.")
        if title:
            row["source"] = (title, url, cells.get("source_publisher"), row["source_date"])
        elif url or cells.get("source_publisher") or row["source_date"]:
            cells.error("source_title", "A source needs a title.")

        answers = {}
        requirements = self.requirements.get(row["program"].pk, []) if row["program"] else []
        codes = {r.code: r for r in requirements}
        for column in self.answer_columns:
            if row["program"] is None:
                break  # the missing or unknown program is the error; answers cannot be checked
            value = cells.get(column).lower()
            if not value:
                continue
            if column not in codes:
                cells.error(
                    column,
                    f"“{column}” is not a requirement of program “{program_slug or '(none)'}”; leave it blank.",
                )
            elif value not in ANSWERS:
                cells.error(
                    column,
                    f"“{value}” is not an answer; use one of {', '.join(Certification.Answer.values)}.",
                )
            else:
                answers[codes[column].pk] = value
        row["answers"] = answers
        if cells.errors:
            self.report.errors.extend(cells.errors)
            return None
        return row

    def _load(self, slugs, geoids, *, lock):
        """Read (and with `lock`, lock) the file's jurisdictions, their enrollments and answers."""
        if connection.vendor == "postgresql":
            # Rows are matched by one array parameter each rather than a 90,000-value IN list, so
            # a file of new jurisdictions reads and locks nothing. A large file's slugs are matched
            # in Python against every (slug, id): cheaper than a 90,000-text array.
            if len(slugs) > 5000:
                every = dict(Jurisdiction.objects.values_list("slug", "pk"))
                scope = where_in(Jurisdiction.objects.all(), "id", [every[s] for s in slugs if s in every])
            else:
                scope = where_in(Jurisdiction.objects.all(), "slug", slugs)
            jurisdictions = scope.select_for_update() if lock else scope
            self.jurisdictions = {j.slug: j for j in jurisdictions}
            enrollments = where_in(
                Enrollment.objects.all(), "jurisdiction_id", [j.pk for j in self.jurisdictions.values()]
            )
            enrollments = enrollments.select_for_update() if lock else enrollments
            self.enrollments = {(e.jurisdiction_id, e.program_id): e for e in enrollments}
            certifications = where_in(
                Certification.objects.order_by(), "enrollment_id", [e.pk for e in self.enrollments.values()]
            )
            geoid_owners = where_in(Jurisdiction.objects.all(), "geoid", geoids)
        else:
            # A large file reads every jurisdiction (cheaper than a 90,000-value IN list); the
            # related rows are then selected by subquery rather than by a list of ids.
            every = len(slugs) > 5000
            scope = Jurisdiction.objects.all() if every else Jurisdiction.objects.filter(slug__in=slugs)
            jurisdictions = scope.select_for_update() if lock else scope
            self.jurisdictions = {j.slug: j for j in jurisdictions}
            enrollments = Enrollment.objects.all()
            if not every:
                enrollments = enrollments.filter(jurisdiction__in=scope.values("pk"))
            if lock:
                enrollments = enrollments.select_for_update()
            self.enrollments = {(e.jurisdiction_id, e.program_id): e for e in enrollments}
            certifications = Certification.objects.order_by()
            if not every:
                certifications = certifications.filter(enrollment__jurisdiction__in=scope.values("pk"))
            geoid_owners = Jurisdiction.objects.filter(geoid__in=geoids)
        # Answers as plain tuples (pk, answer, facility_operator): a 90,000-row file holds about
        # 230,000 of them, and only those that change are read again as objects in `apply`.
        self.certifications = {
            (enrollment_id, requirement_id): StoredAnswer(pk, answer, operator)
            for pk, enrollment_id, requirement_id, answer, operator in certifications.values_list(
                "pk", "enrollment_id", "requirement_id", "answer", "facility_operator"
            )
        }
        self.geoid_owner = dict(geoid_owners.values_list("geoid", "slug"))
        self.sources = {(s.title, s.url): s for s in Source.objects.all()}

    # -- comparing -----------------------------------------------------------------------------

    def _diff(self, row, seen_identity, seen_pairs):
        line, slug = row["line"], row["slug"]
        identity = {f: row[f] for f in IDENTITY_FIELDS}
        errors = []
        if slug in seen_identity and seen_identity[slug] != identity:
            errors.append(
                RowError(line, "slug", f"“{slug}” appears again with other name, state, kind or ids.")
            )
        seen_identity.setdefault(slug, identity)
        owner = self.geoid_owner.get(row["geoid"])
        if row["geoid"] and owner and owner != slug:
            errors.append(RowError(line, "geoid", f"GEOID {row['geoid']} already belongs to “{owner}”."))
        program = row["program"]
        if program is not None:
            if (slug, program.pk) in seen_pairs:
                errors.append(
                    RowError(line, "program", f"“{slug}” is listed in program “{program.slug}” twice.")
                )
            seen_pairs.add((slug, program.pk))
        if errors:
            self.report.errors.extend(errors)
            return
        self.geoid_owner.setdefault(row["geoid"], slug)

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
            source = self._source(row["source"], changes)
            enrollment = self.enrollments.get((jurisdiction.pk, program.pk)) if jurisdiction else None
            values = {
                "status": row["status"],
                "site_type": row["site_type"],
                "letter_sent_on": row["letter_sent_on"],
                "response_due_on": row["response_due_on"],
                "joined_on": row["joined_on"],
                "notes": row["notes"],
                "source": source,
            }
            requirements = self.requirements.get(program.pk, [])
            keys = self.requirement_keys.get(program.pk, [])
            known = {}  # requirement id: StoredAnswer
            if enrollment is not None:
                for pk, _ in keys:
                    if (enrollment.pk, pk) in self.certifications:
                        known[pk] = self.certifications[(enrollment.pk, pk)]
            stored = {pk: answer.answer for pk, answer in known.items()}
            effective = dict.fromkeys((pk for pk, _ in keys), UNKNOWN) | stored | row["answers"]
            rule = Enrollment.participation_errors(
                status=row["status"], requirements=requirements, answers=effective
            )
            if rule:
                self.report.errors.append(RowError(line, "status", rule[0]))
                return
            # The database requires who runs the facility with not_applicable, and the CSV format
            # has no column for it: such an answer can only be kept, not introduced, by a file.
            missing_operator = []
            if NOT_APPLICABLE in effective.values():
                missing_operator = [
                    code
                    for pk, code in keys
                    if effective[pk] == NOT_APPLICABLE and not (pk in known and known[pk].facility_operator)
                ]
            if missing_operator:
                for code in missing_operator:
                    self.report.errors.append(
                        RowError(
                            line,
                            code,
                            "not_applicable needs who runs the facility, which the CSV cannot carry: "
                            "enter it in the admin first, or give another answer.",
                        )
                    )
                return
            if (
                not self.may_admit
                and row["status"] == Enrollment.Status.PARTICIPATING
                and (enrollment is None or enrollment.status != Enrollment.Status.PARTICIPATING)
            ):
                self.report.errors.append(
                    RowError(
                        line,
                        "status",
                        "Only reviewers can set participating; ask a reviewer to import this row.",
                    )
                )
                return
            if enrollment is None:
                answers = [(pk, effective[pk]) for pk, _ in keys]
                self.new_enrollments.append(_NewEnrollment(slug, program.pk, values, answers))
                if action == "unchanged":
                    action, changes = "changed", changes + [f"enrolled in {program.slug}"]
            else:
                enrollment._previous_status = enrollment.status
                changed = [f for f, v in values.items() if f != "source" and getattr(enrollment, f) != v]
                # Compared by id: reading enrollment.source would cost one query per row.
                if source is None:
                    if enrollment.source_id is not None:
                        changed.append("source")
                elif source.pk is None or source.pk != enrollment.source_id:
                    changed.append("source")
                for f in changed:
                    setattr(enrollment, f, values[f])
                if changed:
                    self.changed_enrollments.append(enrollment)
                    changes += changed
                for pk, code in keys:
                    if effective[pk] != stored.get(pk):
                        self.answer_changes.append((enrollment, pk, effective[pk]))
                        if pk in stored:
                            changes.append(code)
        if action == "unchanged" and changes:
            action = "changed"
        self.report.rows.append(RowChange(line, slug, program.slug if program else "", action, changes))

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
        ids = _write_new(
            Jurisdiction,
            NEW_JURISDICTION_COLUMNS,
            list(self.new_jurisdictions.values()),
            now=self.stamp.now,
            history=self.stamp.history,
            db=db,
        )
        return dict(zip(self.new_jurisdictions, ids, strict=True))

    def apply(self):
        user, reason, now, history = self.stamp.user, self.stamp.reason, self.stamp.now, self.stamp.history

        if self.new_sources:
            create_objects(list(self.new_sources.values()), Source, now=now, history=history)
        if self.changed_sources:
            for s in self.changed_sources.values():
                s.updated_at = now
            bulk_update_with_history(
                list(self.changed_sources.values()),
                Source,
                ["publisher", "published_on", "updated_at"],
                **history,
            )

        new_ids = self.new_jurisdiction_ids
        if new_ids is None:
            new_ids = self._write_jurisdictions()
        if self.changed_jurisdictions:
            for j in self.changed_jurisdictions.values():
                j.version += 1
                j.updated_at = now
            bulk_update_with_history(
                list(self.changed_jurisdictions.values()),
                Jurisdiction,
                IDENTITY_FIELDS + ["version", "updated_at"],
                batch_size=2000,
                **history,
            )

        for e in self.new_enrollments:
            known = self.jurisdictions.get(e.slug)
            e.jurisdiction_id = known.pk if known else new_ids[e.slug]
            e.source_id = e.source.pk if e.source else None
        ids = _write_new(
            Enrollment,
            NEW_ENROLLMENT_COLUMNS,
            list(map(operator.attrgetter(*NEW_ENROLLMENT_COLUMNS), self.new_enrollments)),
            now=now,
            history=history,
        )
        for e, pk in zip(self.new_enrollments, ids, strict=True):
            e.pk = pk
        if self.changed_enrollments:
            for e in self.changed_enrollments:
                e.source_id = e.source.pk if e.source else None
                e.version += 1
                e.updated_at = now
            bulk_update_with_history(
                self.changed_enrollments,
                Enrollment,
                ENROLLMENT_FIELDS + ["version", "updated_at"],
                batch_size=2000,
                **history,
            )

        new_answers = [(e.pk, pk, answer) for e in self.new_enrollments for pk, answer in e.answers]
        changed_answers = []
        changing = [
            self.certifications[(e.pk, pk)].pk
            for e, pk, _ in self.answer_changes
            if (e.pk, pk) in self.certifications
        ]
        stored = {}
        for start in range(0, len(changing), 2000):
            stored.update(Certification.objects.in_bulk(changing[start : start + 2000]))
        for enrollment, requirement_id, answer in self.answer_changes:
            known = self.certifications.get((enrollment.pk, requirement_id))
            if known is None:
                new_answers.append((enrollment.pk, requirement_id, answer))
            else:
                existing = stored[known.pk]
                existing.answer = answer
                existing.version += 1
                existing.updated_at = now
                changed_answers.append(existing)
        _write_new(
            Certification,
            ["enrollment_id", "requirement_id", "answer"],
            new_answers,
            now=now,
            history=history,
        )
        if changed_answers:
            bulk_update_with_history(
                changed_answers,
                Certification,
                ["answer", "version", "updated_at"],
                batch_size=2000,
                **history,
            )

        user_id = user.pk if user else None
        steps = [
            (e.pk, e._previous_status, e.status, now, e.status_since, user_id, VIA, reason, e.source_id)
            for e in self.new_enrollments + self.changed_enrollments
            if e._previous_status != e.status
        ]
        _write_new(StatusChange, STEP_COLUMNS, steps, now=now)

        # A jurisdiction's updated_at covers its enrollments and answers, for `updated_since`.
        touched = {e.jurisdiction_id for e in self.new_enrollments + self.changed_enrollments}
        touched |= {e.jurisdiction_id for e, _, _ in self.answer_changes}
        touched -= set(new_ids.values())
        touched -= {j.pk for j in self.changed_jurisdictions.values()}
        ids = sorted(touched)
        for start in range(0, len(ids), 2000):
            Jurisdiction.objects.filter(pk__in=ids[start : start + 2000]).update(updated_at=now)
