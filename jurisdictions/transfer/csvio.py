"""CSV export: the rows of a list of jurisdictions in the importer's format (`format`).

One exporter: rows assembled here in Python, or, where the database can (PostgreSQL, see
`db/csv_export.py`), the same bytes written by the database. Tests hold the two byte-identical.
"""

import csv
import io
import itertools

from .. import as_of as history
from ..db import csv_export
from ..db.lookups import where_in
from ..models import Certification, Enrollment, Requirement
from .format import (  # noqa: F401  (the format's names are also read from here)
    ANSWER_DATE_SUFFIXES,
    ANSWER_SUFFIXES,
    ANSWER_TEXT_SUFFIXES,
    ENROLLMENT_COLUMNS,
    FORMULA_PREFIXES,
    JURISDICTION_COLUMNS,
    REQUIRED_COLUMNS,
    TAIL_COLUMNS,
    csv_columns,
    neutralise,
    requirement_codes,
    restore,
)


def _date(value):
    return value.isoformat() if value else ""


def _safe(text):
    """`neutralise` for a cell already known to be text (the hot path of a 90,000-row export)."""
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


IDENTITY_FIELDS = ("id", "slug", "name", "state", "kind", "geoid", "ocd_id")
ENROLLMENT_FIELDS = (
    "id",
    "jurisdiction_id",
    "program__slug",
    "status",
    "site_type",
    "letter_sent_on",
    "response_due_on",
    "joined_on",
    "notes",
    "source__title",
    "source__publisher",
    "source__url",
    "source__published_on",
    "site_type_source__title",
    "site_type_source__publisher",
    "site_type_source__url",
    "site_type_source__published_on",
)


# An answer's cells, read in this order, each written by the function beside it.
ANSWER_FIELDS = (
    "enrollment_id",
    "requirement_id",
    "answer",
    "facility_operator",
    "legal_basis",
    "citation",
    "evidence_url",
    "certified_by",
    "certified_on",
    "basis",
    "source__title",
    "source__publisher",
    "source__url",
    "source__published_on",
    "second_source__title",
    "second_source__publisher",
    "second_source__url",
    "second_source__published_on",
)


def _text_cell(value):
    return _safe(value or "")


def _plain_cell(value):
    return value or ""


ANSWER_CELLS = (
    _plain_cell,  # answer
    *(
        _date
        if suffix in ANSWER_DATE_SUFFIXES
        else _text_cell
        if suffix in ANSWER_TEXT_SUFFIXES
        else _plain_cell
        for suffix in ANSWER_SUFFIXES
    ),
)
ANSWER_WIDTH = len(ANSWER_CELLS)


def _as_of(day, enrollments, answers):
    """The chunk's enrollments and answers as they stood at the end of `day` (as_of.py)."""
    ids = [e[0] for rows in enrollments.values() for e in rows]
    standing = history.statuses(day, enrollment_ids=ids)
    versions = {(v[0], v[1]): v[2:] for v in history.answer_versions(day, enrollment_ids=ids).values()}
    status_at, answer_at, basis_at = ENROLLMENT_FIELDS.index("status"), 1, ANSWER_FIELDS.index("basis") - 1
    for jurisdiction_id, rows in list(enrollments.items()):
        kept = []
        for e in rows:
            if e[0] in standing:
                e = list(e)
                e[status_at] = standing[e[0]].status
                kept.append(e)
        enrollments[jurisdiction_id] = kept
    for enrollment_id, rows in answers.items():
        for i, row in enumerate(rows):
            answer, basis = versions.get((enrollment_id, row[0]), ("unknown", ""))
            row = list(row)
            row[answer_at], row[basis_at] = answer, basis
            rows[i] = row


def iter_export_rows(jurisdictions, *, programs=None, statuses=None, chunk_size=2000, as_of=None):
    """Yield the header, then the rows of `jurisdictions` in its order, a chunk at a time.

    `programs` (slugs) and `statuses` narrow which enrollments are written, so a list filtered by
    program or status exports exactly those rows. Memory stays flat whatever the size: the
    jurisdictions are read through one streamed query (a server-side cursor on PostgreSQL), and
    for each chunk of them two queries read their enrollments and their answers, each by index.
    """
    requirements = dict(Requirement.objects.values_list("id", "code"))
    codes = requirement_codes()
    header = csv_columns(codes)
    yield header
    width = len(header)
    first_code = len(JURISDICTION_COLUMNS) + len(ENROLLMENT_COLUMNS)
    position = {pk: first_code + codes.index(code) * ANSWER_WIDTH for pk, code in requirements.items()}
    blank_answers = [""] * (len(codes) * ANSWER_WIDTH)
    blank_enrollment = [""] * (width - len(JURISDICTION_COLUMNS))

    enrollment_filter = {}
    if programs:
        enrollment_filter["program__slug__in"] = programs
    if statuses:
        enrollment_filter["status__in"] = statuses
    narrowed = bool(enrollment_filter) or as_of is not None

    identities = jurisdictions.values_list(*IDENTITY_FIELDS).iterator(chunk_size=chunk_size)
    while True:
        chunk = list(itertools.islice(identities, chunk_size))
        if not chunk:
            return
        enrollments = {}
        for row in (
            where_in(Enrollment.objects.filter(**enrollment_filter), "jurisdiction_id", [j[0] for j in chunk])
            .order_by("jurisdiction_id", "program__launched_on", "program_id")
            .values_list(*ENROLLMENT_FIELDS)
        ):
            enrollments.setdefault(row[1], []).append(row)
        answers = {}
        enrollment_ids = [e[0] for rows in enrollments.values() for e in rows]
        if enrollment_ids:
            for row in where_in(
                Certification.objects.order_by(), "enrollment_id", enrollment_ids
            ).values_list(*ANSWER_FIELDS):
                answers.setdefault(row[0], []).append(row[1:])
        if as_of is not None:
            _as_of(as_of, enrollments, answers)

        for jurisdiction_id, slug, name, state, kind, geoid, ocd_id in chunk:
            identity = [_safe(slug), _safe(name), state, kind, geoid or "", _safe(ocd_id)]
            rows = enrollments.get(jurisdiction_id)
            if not rows:
                if not narrowed:
                    yield identity + blank_enrollment
                continue
            for e in rows:
                cells = (
                    identity
                    + [e[2], e[3], e[4], _date(e[5]), _date(e[6]), _date(e[7])]
                    + blank_answers
                    + [
                        _safe(e[8]),
                        _safe(e[9] or ""),
                        _safe(e[10] or ""),
                        _safe(e[11] or ""),
                        _date(e[12]),
                        _safe(e[13] or ""),
                        _safe(e[14] or ""),
                        _safe(e[15] or ""),
                        _date(e[16]),
                    ]
                )
                for requirement_id, *values in answers.get(e[0], ()):
                    at = position[requirement_id]
                    cells[at : at + ANSWER_WIDTH] = [
                        format_cell(value) for format_cell, value in zip(ANSWER_CELLS, values, strict=True)
                    ]
                yield cells


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value):
        return value


def iter_csv_lines(rows, *, lines_per_chunk=500):
    """The CSV text of `rows`: the header line at once (a fast first byte), then chunks of lines.

    Each yielded string is a whole number of lines. Chunks of a few hundred lines rather than one
    line each spare the WSGI server and the middleware 90,000 trips for a national export.
    """
    writer = csv.writer(_Echo())
    rows = iter(rows)
    for row in rows:
        yield writer.writerow(row)
        break
    while True:
        chunk = "".join(writer.writerow(row) for row in itertools.islice(rows, lines_per_chunk))
        if not chunk:
            return
        yield chunk


def export_csv_text(jurisdictions, **kwargs):
    """The whole export as one string (tests and small files)."""
    buffer = io.StringIO()
    for chunk in iter_export_csv(jurisdictions, **kwargs):
        buffer.write(chunk)
    return buffer.getvalue()


def iter_export_csv(jurisdictions, *, programs=None, statuses=None, chunk_size=2000, as_of=None):
    """The CSV text of the export of `jurisdictions` (every CSV export calls this).

    The same text as `iter_csv_lines(iter_export_rows(...))`, yielded as the header line at once
    and then chunks of whole lines. On PostgreSQL the database writes the lines (see
    `db/csv_export.py`); elsewhere, and where server-side cursors are switched off
    (`DISABLE_SERVER_SIDE_CURSORS`, needed behind PgBouncer's transaction pooling, which cannot keep
    a cursor between transactions), the rows are assembled in Python by `iter_export_rows`.
    """
    if as_of is None and csv_export.available(jurisdictions.db):
        yield from csv_export.iter_database_csv(
            jurisdictions, programs=programs, statuses=statuses, chunk_size=chunk_size
        )
        return
    rows = iter_export_rows(
        jurisdictions, programs=programs, statuses=statuses, chunk_size=chunk_size, as_of=as_of
    )
    yield from iter_csv_lines(rows)
