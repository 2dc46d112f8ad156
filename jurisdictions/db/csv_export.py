"""The CSV export written by PostgreSQL: the same bytes as the Python path of
`transfer/csvio.iter_export_csv`, about twice as fast and in flat memory at national scale
(docs/performance.md). `tests/test_csv_export.py` holds the two paths byte-identical.
"""

import csv

from django.db import connections

from ..models import Certification, Enrollment, Jurisdiction, Program, Source
from ..transfer.format import (
    ANSWER_DATE_SUFFIXES,
    ANSWER_DETAIL_FIELDS,
    ANSWER_SUFFIXES,
    ANSWER_TEXT_SUFFIXES,
    FORMULA_PREFIXES,
    csv_columns,
    requirement_ids_by_code,
)

# csv.writer quotes a cell holding a delimiter, a quote or a line break. Lines whose cells hold
# none are joined by the database; the others are sent with their cells, through csv.writer.
_NEEDS_QUOTES = r"""E'[,"\\r\\n]'"""
_FORMULA_CODES = ", ".join(str(ord(prefix)) for prefix in FORMULA_PREFIXES)
# Below this many jurisdictions each enrollment's answers are looked up by index; from it on,
# aggregating the whole answers table once is cheaper (docs/performance.md has the timings).
ANSWERS_BY_INDEX_BELOW = 8_000
# The stored value behind each answer cell: the answer, then each suffix's column.
_ANSWER_SOURCE_COLUMNS = {
    "source_title": "cs.title",
    "source_publisher": "cs.publisher",
    "source_url": "cs.url",
    "source_date": "cs.published_on",
    "second_source_title": "c2.title",
    "second_source_publisher": "c2.publisher",
    "second_source_url": "c2.url",
    "second_source_date": "c2.published_on",
}
ANSWER_VALUES = [
    ("", "c.answer"),
    *(
        (
            suffix,
            f"c.{ANSWER_DETAIL_FIELDS[suffix]}"
            if suffix in ANSWER_DETAIL_FIELDS
            else _ANSWER_SOURCE_COLUMNS[suffix],
        )
        for suffix in ANSWER_SUFFIXES
    ),
]


class _Echo:
    def write(self, value):
        return value


def available(using):
    """Whether the database writes the export: PostgreSQL, with server-side cursors (switched off
    behind PgBouncer's transaction pooling, which cannot keep a cursor between transactions)."""
    db = connections[using]
    return db.vendor == "postgresql" and not db.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")


def _sql_text(expression):
    return f"coalesce({expression}, '')"


def _sql_safe(expression):
    """`_safe` in SQL: a formula's first character gets an apostrophe in front."""
    text = _sql_text(expression)
    return f"CASE WHEN ascii({text}) IN ({_FORMULA_CODES}) THEN '''' || {text} ELSE {text} END"


def _sql_date(expression):
    """`_date` in SQL: ISO 8601 whatever the session's DateStyle, blank for NULL."""
    return f"coalesce(to_char({expression}, 'YYYY-MM-DD'), '')"


def _answer_cell(suffix, column):
    if suffix in ANSWER_DATE_SUFFIXES:
        return _sql_date(column)
    if suffix in ANSWER_TEXT_SUFFIXES:
        return _sql_safe(column)
    return _sql_text(column)


def _export_sql(ids, requirements, *, programs, statuses):
    """The export query and its parameters: one row per CSV line, in `iter_export_rows`'s order.

    Each row is (line, cells): the line joined, with its line ending, and NULL cells when no cell
    needs quoting; else the cells, for csv.writer. `ids` is the jurisdictions' ids in order; they
    travel as one array literal (adapting 90,000 ints one by one costs more) and WITH ORDINALITY
    keeps their order.
    """
    count, ids = len(ids), "{" + ",".join(map(str, ids)) + "}"
    answer_cells, answer_text = [], []
    for i in range(len(requirements)):
        for k, (suffix, _) in enumerate(ANSWER_VALUES):
            column = f"a.a{i}_{k}"
            answer_cells.append(_answer_cell(suffix, column))
            if suffix not in ANSWER_DATE_SUFFIXES:
                answer_text.append(column)
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
        *answer_cells,
        _sql_safe("e.notes"),
        _sql_safe("s.title"),
        _sql_safe("s.publisher"),
        _sql_safe("s.url"),
        _sql_date("s.published_on"),
        _sql_safe("ts.title"),
        _sql_safe("ts.publisher"),
        _sql_safe("ts.url"),
        _sql_date("ts.published_on"),
    ]
    # Formatting adds only apostrophes, digits and hyphens: the stored text decides the quoting.
    stored_text = ", ".join(
        ["j.slug", "j.name", "j.state", "j.kind", "j.geoid", "j.ocd_id", "p.slug", "e.status"]
        + ["e.site_type", *answer_text, "e.notes", "s.title", "s.publisher", "s.url"]
        + ["ts.title", "ts.publisher", "ts.url"]
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
            for k, (_, column) in enumerate(ANSWER_VALUES):
                pivots.append(f"max({column}) FILTER (WHERE c.requirement_id = ANY(%s)) AS a{i}_{k}")
                params.append(requirement_ids)
        certification, source = Certification._meta.db_table, Source._meta.db_table
        answers = (
            f"{certification} c LEFT JOIN {source} cs ON cs.id = c.source_id"
            f" LEFT JOIN {source} c2 ON c2.id = c.second_source_id"
        )
        if count < ANSWERS_BY_INDEX_BELOW:
            answer_join = (
                f"LEFT JOIN LATERAL (SELECT {', '.join(pivots)}\n"
                f"    FROM {answers} WHERE c.enrollment_id = e.id) a ON true"
            )
        else:
            answer_join = (
                f"LEFT JOIN (SELECT c.enrollment_id, {', '.join(pivots)}\n"
                f"    FROM {answers} GROUP BY c.enrollment_id) a ON a.enrollment_id = e.id"
            )

    sql = f"""SELECT concat_ws(',',
        {cell_list}) || E'\\r\\n',
    CASE WHEN concat({stored_text}) ~ {_NEEDS_QUOTES} THEN ARRAY[
        {cell_list}]::text[] END
FROM unnest(%s::bigint[]) WITH ORDINALITY AS ids (id, position)
JOIN {Jurisdiction._meta.db_table} j ON j.id = ids.id
{enrollments}
LEFT JOIN {Source._meta.db_table} s ON s.id = e.source_id
LEFT JOIN {Source._meta.db_table} ts ON ts.id = e.site_type_source_id
{answer_join}
ORDER BY ids.position, p.launched_on, p.id"""
    return sql, params


def iter_database_csv(jurisdictions, *, programs, statuses, chunk_size):
    """The export in three queries whatever its size: requirements, jurisdiction ids, lines.

    The lines come through one server-side cursor, `chunk_size` rows a fetch. The database joins
    each jurisdiction to its enrollments, their program, source and answers, formats the dates,
    blanks and formula prefixes, and joins the cells; Python passes the lines on and writes only
    the rare line with a comma, a quote or a line break in a cell (csv.writer, as the Python path).
    """
    db = connections[jurisdictions.db]
    requirements = requirement_ids_by_code(jurisdictions.db)
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
