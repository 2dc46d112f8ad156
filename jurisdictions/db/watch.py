"""The write watch and the data version row: in the seam because it intercepts SQL.

**Why a row.** The data version keys every cached public response (jurisdictions/cache.py). It used
to live in Redis and was moved on after the commit, so a write made while Redis was down or paused
left the old version in place and readers were served stale pages until the next write. Now it is
one row, `jurisdictions_dataversion` (id 1: a random token and the second it changed), written in
the same transaction as the data: a reader sees the new data and the new token together, or
neither, whatever Redis does.

**Seeing writes.** Every statement that writes a table of this app (INSERT, UPDATE, DELETE,
TRUNCATE on `jurisdictions_*`, except the bookkeeping of UNTRACKED_TABLES) passes an execute wrapper installed on every connection, so every
door is covered without each one remembering to call something: the admin, the API, services, the
importer's bulk writes, `QuerySet.update()`. COPY (the importer's fast path) calls `note_write`
itself.

**When the row is bumped.** Inside a transaction, the first tracked write registers a pending bump;
the bump (one UPDATE of the row) runs just before COMMIT, from a wrapper around the connection's
`commit`. Bumping at the last moment holds the row's lock only for the commit itself: writers never
wait on each other for the length of a transaction, and no deadlock can form (the bump is the last
lock a transaction takes). A write in autocommit mode is wrapped in a transaction of its own so
that it commits with its bump. A rolled-back transaction bumps nothing.

The pending bump is also an on-commit callback: Django drops it on rollback (also of the
savepoint that wrote), which is how `has_pending_bump` knows whether the transaction still wrote;
and a test that stands for a commit with captureOnCommitCallbacks(execute=True) runs it, which
bumps then (real commits have bumped already).
"""

import time
import uuid
from typing import NamedTuple

from django.db import connections, transaction
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate, pre_migrate

VERSION_TABLE = "jurisdictions_dataversion"
TABLE_PREFIX = "jurisdictions_"
WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")
# Bookkeeping that no public page or API response shows: writing it must not move the version on
# (each admin upload records an import job; counting it would empty every cache for nothing).
UNTRACKED_TABLES = ("jurisdictions_importjob",)

_SELECT = f"SELECT token, modified FROM {VERSION_TABLE} WHERE id = 1"
# Last-Modified has one-second resolution: two versions never share a second, so that
# If-Modified-Since cannot mistake a newer version for the one a client holds.
_UPDATE = (
    f"UPDATE {VERSION_TABLE} SET token = %s, "
    "modified = CASE WHEN modified >= %s THEN modified + 1 ELSE %s END WHERE id = 1"
)
# A database flushed by a test (or restored without the row) gets it back on first use.
_INSERT = f"INSERT INTO {VERSION_TABLE} (id, token, modified) VALUES (1, %s, %s) ON CONFLICT (id) DO NOTHING"


class Version(NamedTuple):
    token: str
    modified: int  # seconds since the epoch, for Last-Modified


def read_version(using="default"):
    """The committed version (or this transaction's own, inside it): one primary-key lookup."""
    with connections[using].cursor() as cursor:
        cursor.execute(_SELECT)
        row = cursor.fetchone()
        if row is None:
            cursor.execute(_INSERT, [uuid.uuid4().hex, int(time.time())])
            cursor.execute(_SELECT)
            row = cursor.fetchone()
    return Version(*row)


def write_version(using="default"):
    """Move the version on now, in the connection's current transaction (or autocommit)."""
    now = int(time.time())
    with connections[using].cursor() as cursor:
        cursor.execute(_UPDATE, [uuid.uuid4().hex, now, now])
        if cursor.rowcount == 0:
            cursor.execute(_INSERT, [uuid.uuid4().hex, now])
    return read_version(using)


# -- seeing writes -------------------------------------------------------------------------------


def is_tracked_write(sql):
    if isinstance(sql, bytes):  # psycopg2.extras.execute_values sends bytes
        sql = sql[:256].decode("utf-8", "replace")
    elif not isinstance(sql, str):
        return False
    head = sql.lstrip()[:200]
    return (
        head[:8].upper().startswith(WRITE_VERBS)
        and TABLE_PREFIX in head
        and VERSION_TABLE not in head
        and not any(table in head for table in UNTRACKED_TABLES)
    )


class _PendingBump:
    """One per transaction that wrote; registered with on_commit (see the module)."""

    def __init__(self, connection):
        self.connection = connection
        self.done = False

    def __call__(self):
        if self.connection.psp_pending_bump is self:
            self.connection.psp_pending_bump = None
        if not self.done:  # a test's captured commit: no real commit ran the wrapper
            self.done = True
            write_version(self.connection.alias)
            _notify()


_listeners = []


def on_bump(callback):
    """Call `callback()` whenever this process moves the version on (the cache forgets its memo)."""
    _listeners.append(callback)


def _notify():
    for callback in _listeners:
        callback()


# While `migrate` runs, the version table may not exist yet (data migrations write before 0008
# creates it): writes are not watched then, and the version moves on once migrations are done.
_migrating = False


def _migration_started(**kwargs):
    global _migrating
    _migrating = True


def _migration_finished(using="default", **kwargs):
    global _migrating
    if _migrating:
        _migrating = False
        write_version(using)
        _notify()


def note_write(connection):
    """Record a write to a tracked table: the version moves on with this transaction's commit.

    The execute wrapper calls it for every statement; code that writes without `execute` (COPY
    through `cursor.copy_expert`) calls it itself. One bump per transaction: a 90,000-row import
    registers one, not one per statement.
    """
    if _migrating:
        return
    if connection.in_atomic_block:
        if not has_pending_bump(connection):
            connection.psp_pending_bump = _PendingBump(connection)
            connection.on_commit(connection.psp_pending_bump)
        return
    # Autocommit (already committed: COPY outside a transaction) or manual transaction management
    # (then this UPDATE joins the open transaction): bump now.
    write_version(connection.alias)
    _notify()


def has_pending_bump(connection):
    """The bump waiting for this transaction's commit (gone when a rollback dropped it)."""
    callback = getattr(connection, "psp_pending_bump", None)
    return callback is not None and any(func is callback for _, func, _ in connection.run_on_commit)


def _watch_writes(execute, sql, params, many, context):
    if _migrating or not is_tracked_write(sql):
        return execute(sql, params, many, context)
    connection = context["connection"]
    if connection.in_atomic_block or not connection.get_autocommit() or connection.vendor == "sqlite":
        # SQLite cannot commit while the statement's RETURNING rows are unread, so there a write in
        # autocommit mode is followed by the bump instead (SQLite runs one process: development and
        # tests). A bump right after the commit still keeps readers fresh; only a crash between
        # the two statements could skip it.
        result = execute(sql, params, many, context)
        note_write(connection)
        return result
    # Autocommit on PostgreSQL: give the statement a transaction, so that it commits together with
    # its bump (psycopg2 has already fetched the statement's result rows when execute returns).
    with transaction.atomic(using=connection.alias):
        result = execute(sql, params, many, context)
        note_write(connection)
    return result


def _commit_with_bump(connection, commit):
    def commit_then():
        pending = getattr(connection, "psp_pending_bump", None)
        if pending is not None and not pending.done and has_pending_bump(connection):
            write_version(connection.alias)  # in the transaction being committed
            pending.done = True
            commit()
            _notify()
            return
        commit()

    return commit_then


def install_write_watch(connection, **kwargs):
    """Install the execute wrapper and the commit hook on a connection (idempotent)."""
    if _watch_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch_writes)
    if not getattr(connection, "psp_commit_hooked", False):
        connection.commit = _commit_with_bump(connection, connection.commit)
        connection.psp_commit_hooked = True


def connect_write_watch():
    connection_created.connect(install_write_watch, dispatch_uid="psp_data_version_watch")
    pre_migrate.connect(_migration_started, dispatch_uid="psp_data_version_migrating")
    post_migrate.connect(_migration_finished, dispatch_uid="psp_data_version_migrated")
    for connection in connections.all(initialized_only=True):
        install_write_watch(connection)
