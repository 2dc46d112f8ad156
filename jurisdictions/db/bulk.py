"""The bulk writer: how the importer and `generate_jurisdictions` write many rows at once.

They decide nothing here: which rows, which values, which versions, history stamps and status-change
rows are decided by `jurisdictions.services` (see docs/write-path.md); this module only writes
them fast. On PostgreSQL new rows go in with COPY and their "+" history records are copied by the
database from the rows themselves (a 90,000-row file writes some 800,000 rows: Django's
bulk_create and simple-history's bulk_history_create prepare every value of every object in Python,
about twice as slow); other databases use those helpers. The importer also reads its scope here,
matched by array parameters (`lookups.where_in`), and writes its new jurisdictions on a second
thread sharing the connection while it compares the rest of the file (`Beside`).
"""

import csv
import datetime
import io
import itertools
import operator
import threading

from django.db import DEFAULT_DB_ALIAS, connection, connections
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from ..models import Certification, Enrollment, Jurisdiction, Source
from .lookups import where_in

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


def write_new(model, attnames, values, *, now, history=None, db=None):
    """Insert rows given as tuples of the values of `attnames`; return their ids, in order.

    The other columns take their defaults, and the auto_now timestamps `now`. With `history`
    (simple-history's bulk arguments) each row also gets its "+" history record.

    On PostgreSQL the ids come from the sequence in one query and the rows go in with COPY:
    Django's bulk_create and simple-history's bulk_history_create prepare every value of every
    object in Python, and a 90,000-row file writes some 800,000 rows. Other databases use those
    helpers. `db` is the connection (another thread's, see Beside), by default this thread's.
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
    their ids: `write_new` for objects already built (new sources; the synthetic generator)."""
    if not objs:
        return
    attnames = [f.attname for f in model._meta.concrete_fields if not f.primary_key and not _stamped(f)]
    values_of = operator.attrgetter(*attnames)
    ids = write_new(model, attnames, [values_of(obj) for obj in objs], now=now, history=history)
    stamped = [f.attname for f in model._meta.concrete_fields if _stamped(f)]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
        for attname in stamped:
            setattr(obj, attname, now)


def update_objects(objs, model, fields, *, history=None, batch_size=2000):
    """Save `fields` of existing instances (and with `history`, their "~" history records)."""
    if not objs:
        return
    if history:
        bulk_update_with_history(objs, model, fields, batch_size=batch_size, **history)
    else:
        model.objects.bulk_update(objs, fields, batch_size=batch_size)


def can_write_beside():
    """Whether a second thread may write over this thread's connection while it works (PostgreSQL:
    the server inserts on one core while Python compares rows on the other)."""
    return connection.vendor == "postgresql"


class Beside:
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


class ImportScope:
    """What an import compares its rows with: the file's jurisdictions by slug, their enrollments
    by (jurisdiction id, program id), their answers by (enrollment id, requirement id) as tuples of
    `answer_fields` (a national file holds about 230,000: plain tuples, not model instances), and
    the slug owning each of the file's GEOIDs."""

    def __init__(self, slugs, geoids, *, lock, answer_fields):
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
        self.certifications = {
            (row[1], row[2]): row[3:]
            for row in certifications.values_list(
                "pk", "enrollment_id", "requirement_id", "pk", *answer_fields
            )
        }
        self.geoid_owner = dict(geoid_owners.values_list("geoid", "slug"))
        self.sources = {(s.title, s.url): s for s in Source.objects.all()}


def in_bulk(model, ids, *, chunk=2000):
    """{id: instance} for `ids`, read a chunk at a time."""
    found = {}
    for start in range(0, len(ids), chunk):
        found.update(model.objects.in_bulk(ids[start : start + chunk]))
    return found


def touch(model, ids, *, now, chunk=2000):
    """Set `updated_at` of the rows `ids` (a parent whose children changed)."""
    ids = sorted(ids)
    for start in range(0, len(ids), chunk):
        model.objects.filter(pk__in=ids[start : start + chunk]).update(updated_at=now)
