"""The CSV column format, shared by the importer and every CSV export so that an export re-imports
unchanged.

One row per jurisdiction and program: the jurisdiction's fields, the enrollment's status and dates,
one column per requirement code holding the answer, then notes and the enrollment's source. A
jurisdiction enrolled in no program is one row with the program columns blank.
"""

import csv
import io
import itertools

from django.db import connections

from ..models import Certification, Enrollment, Jurisdiction, Program, Requirement, Source, where_in

JURISDICTION_COLUMNS = ["slug", "name", "state", "kind", "geoid", "ocd_id"]
ENROLLMENT_COLUMNS = ["program", "status", "site_type", "letter_sent_on", "response_due_on", "joined_on"]
TAIL_COLUMNS = ["notes", "source_title", "source_publisher", "source_url", "source_date"]
REQUIRED_COLUMNS = ["name", "state", "kind"]

# A spreadsheet runs a cell that starts with one of these as a formula; exports prefix it with an
# apostrophe (shown as text) and the importer removes that prefix again.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def requirement_codes():
    """Requirement codes in program and list order, each once."""
    return list(_requirement_ids_by_code())


def _requirement_ids_by_code(using=None):
    """{code: [requirement ids]} in the order of `requirement_codes` (programs may share a code)."""
    requirements = Requirement.objects.using(using).order_by(
        "program__launched_on", "program_id", "order", "code"
    )
    by_code = {}
    for pk, code in requirements.values_list("id", "code"):
        by_code.setdefault(code, []).append(pk)
    return by_code


def csv_columns(codes=None):
    codes = requirement_codes() if codes is None else codes
    return JURISDICTION_COLUMNS + ENROLLMENT_COLUMNS + codes + TAIL_COLUMNS


def neutralise(value):
    """Text of a cell, made safe to open in a spreadsheet."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def restore(text):
    """Undo `neutralise`: the importer reads back exactly what was exported."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text


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
)


def iter_export_rows(jurisdictions, *, programs=None, statuses=None, chunk_size=2000):
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
    position = {pk: first_code + codes.index(code) for pk, code in requirements.items()}
    blank_answers = [""] * len(codes)
    blank_enrollment = [""] * (width - len(JURISDICTION_COLUMNS))

    enrollment_filter = {}
    if programs:
        enrollment_filter["program__slug__in"] = programs
    if statuses:
        enrollment_filter["status__in"] = statuses
    narrowed = bool(enrollment_filter)

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
            for enrollment_id, requirement_id, answer in where_in(
                Certification.objects.order_by(), "enrollment_id", enrollment_ids
            ).values_list("enrollment_id", "requirement_id", "answer"):
                answers.setdefault(enrollment_id, []).append((requirement_id, answer))

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
                    ]
                )
                for requirement_id, answer in answers.get(e[0], ()):
                    cells[position[requirement_id]] = answer
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


def iter_export_csv(jurisdictions, *, programs=None, statuses=None, chunk_size=2000):
    """The CSV text of the export of `jurisdictions` (every CSV export calls this).

    The same text as `iter_csv_lines(iter_export_rows(...))`, yielded as the header line at once
    and then chunks of whole lines. On PostgreSQL the database writes the lines (see
    `_iter_postgresql_csv`); elsewhere, and where server-side cursors are switched off
    (`DISABLE_SERVER_SIDE_CURSORS`, needed behind PgBouncer's transaction pooling, which cannot keep
    a cursor between transactions), the rows are assembled in Python by `iter_export_rows`.
    """
    db = connections[jurisdictions.db]
    if db.vendor != "postgresql" or db.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"):
        rows = iter_export_rows(jurisdictions, programs=programs, statuses=statuses, chunk_size=chunk_size)
        yield from iter_csv_lines(rows)
        return
    yield from _iter_postgresql_csv(
        jurisdictions, db, programs=programs, statuses=statuses, chunk_size=chunk_size
    )


# -- the export written by PostgreSQL --------------------------------------------------------------

# csv.writer quotes a cell holding a delimiter, a quote or a line break. Lines whose cells hold
# none are joined by the database; the others are sent with their cells, through csv.writer.
_NEEDS_QUOTES = r"""E'[,"\\r\\n]'"""
_FORMULA_CODES = ", ".join(str(ord(prefix)) for prefix in FORMULA_PREFIXES)
# Below this many jurisdictions each enrollment's answers are looked up by index; from it on,
# aggregating the whole answers table once is cheaper (docs/performance.md has the timings).
ANSWERS_BY_INDEX_BELOW = 8_000


def _sql_text(expression):
    return f"coalesce({expression}, '')"


def _sql_safe(expression):
    """`_safe` in SQL: a formula's first character gets an apostrophe in front."""
    text = _sql_text(expression)
    return f"CASE WHEN ascii({text}) IN ({_FORMULA_CODES}) THEN '''' || {text} ELSE {text} END"


def _sql_date(expression):
    """`_date` in SQL: ISO 8601 whatever the session's DateStyle, blank for NULL."""
    return f"coalesce(to_char({expression}, 'YYYY-MM-DD'), '')"


def _export_sql(ids, requirements, *, programs, statuses):
    """The export query and its parameters: one row per CSV line, in `iter_export_rows`'s order.

    Each row is (line, cells): the line joined, with its line ending, and NULL cells when no cell
    needs quoting; else the cells, for csv.writer. `ids` is the jurisdictions' ids in order; they
    travel as one array literal (adapting 90,000 ints one by one costs more) and WITH ORDINALITY
    keeps their order.
    """
    count, ids = len(ids), "{" + ",".join(map(str, ids)) + "}"
    answers = [f"a.a{i}" for i in range(len(requirements))]
    cells = [
        _sql_safe("j.slug"),
        _sql_safe("j.name"),
        _sql_text("j.state"),
        _sql_text("j.kind"),
        _sql_text("j.geoid"),
        _sql_safe("j.ocd_id"),
        _sql_text("p.slug"),
        _sql_text("e.status"),
        _sql_text("e.site_type"),
        _sql_date("e.letter_sent_on"),
        _sql_date("e.response_due_on"),
        _sql_date("e.joined_on"),
        *(_sql_text(a) for a in answers),
        _sql_safe("e.notes"),
        _sql_safe("s.title"),
        _sql_safe("s.publisher"),
        _sql_safe("s.url"),
        _sql_date("s.published_on"),
    ]
    # Formatting adds only apostrophes, digits and hyphens: the stored text decides the quoting.
    stored_text = ", ".join(
        ["j.slug", "j.name", "j.state", "j.kind", "j.geoid", "j.ocd_id", "p.slug", "e.status"]
        + ["e.site_type", *answers, "e.notes", "s.title", "s.publisher", "s.url"]
    )
    cell_list = ",\n        ".join(cells)
    enrollment, program = Enrollment._meta.db_table, Program._meta.db_table
    params = [ids]

    if programs or statuses:
        # Narrowed to a program or a status: a jurisdiction without such an enrollment has no line.
        enrollments = f"JOIN {enrollment} e ON e.jurisdiction_id = j.id"
        if statuses:
            enrollments += " AND e.status = ANY(%s)"
            params.append(list(statuses))
        enrollments += f"\nJOIN {program} p ON p.id = e.program_id"
        if programs:
            enrollments += " AND p.slug = ANY(%s)"
            params.append(list(programs))
    else:
        enrollments = (
            f"LEFT JOIN ({enrollment} e JOIN {program} p ON p.id = e.program_id) ON e.jurisdiction_id = j.id"
        )

    answer_join = ""
    if requirements:
        pivots = []
        for i, requirement_ids in enumerate(requirements.values()):
            # A code shared by two programs: an enrollment answers the requirement of its own.
            pivots.append(f"max(c.answer) FILTER (WHERE c.requirement_id = ANY(%s)) AS a{i}")
            params.append(requirement_ids)
        certification = Certification._meta.db_table
        if count < ANSWERS_BY_INDEX_BELOW:
            answer_join = (
                f"LEFT JOIN LATERAL (SELECT {', '.join(pivots)}\n"
                f"    FROM {certification} c WHERE c.enrollment_id = e.id) a ON true"
            )
        else:
            answer_join = (
                f"LEFT JOIN (SELECT c.enrollment_id, {', '.join(pivots)}\n"
                f"    FROM {certification} c GROUP BY c.enrollment_id) a ON a.enrollment_id = e.id"
            )

    sql = f"""SELECT concat_ws(',',
        {cell_list}) || E'\\r\\n',
    CASE WHEN concat({stored_text}) ~ {_NEEDS_QUOTES} THEN ARRAY[
        {cell_list}]::text[] END
FROM unnest(%s::bigint[]) WITH ORDINALITY AS ids (id, position)
JOIN {Jurisdiction._meta.db_table} j ON j.id = ids.id
{enrollments}
LEFT JOIN {Source._meta.db_table} s ON s.id = e.source_id
{answer_join}
ORDER BY ids.position, p.launched_on, p.id"""
    return sql, params


def _iter_postgresql_csv(jurisdictions, db, *, programs, statuses, chunk_size):
    """The export in three queries whatever its size: requirements, jurisdiction ids, lines.

    The lines come through one server-side cursor, `chunk_size` rows a fetch. The database joins
    each jurisdiction to its enrollments, their program, source and answers, formats the dates,
    blanks and formula prefixes, and joins the cells; Python passes the lines on and writes only
    the rare line with a comma, a quote or a line break in a cell (csv.writer, as the Python path).
    """
    requirements = _requirement_ids_by_code(jurisdictions.db)
    writer = csv.writer(_Echo())
    yield writer.writerow(csv_columns(list(requirements)))

    # The caller's order, whatever it is built from: its ids, in one query.
    ids = list(jurisdictions.values_list("id", flat=True))
    sql, params = _export_sql(ids, requirements, programs=programs, statuses=statuses)
    del ids  # 90,000 ints are a few MB; the array literal in `params` is all the query needs
    # Django's named cursor, as QuerySet.iterator() uses: in autocommit it is declared WITH HOLD,
    # so the query completes when declared and no transaction stays open while a slow client
    # downloads; inside a transaction it ends with it.
    cursor = db.chunked_cursor()
    try:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk_size):
            yield "".join([line if cells is None else writer.writerow(cells) for line, cells in rows])
    finally:
        # Also when the client goes away mid-download: a held cursor lives as long as the connection.
        cursor.close()
