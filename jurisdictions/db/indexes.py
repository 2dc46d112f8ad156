"""The trigram index behind the name search, which only PostgreSQL has (migration 0005).

The migration calls these so that its one vendor check lives in this package with the others.
They take the schema editor the migration is given and must stay stable: an old migration runs
whatever these functions say at the time it is applied.
"""

from django.db import DatabaseError, transaction

TRIGRAM = "jurisdiction_name_trgm_idx"


def create_name_trigram_index(schema_editor):
    """Create the pg_trgm index for `name__icontains` on PostgreSQL; elsewhere do nothing.

    Creating the extension needs a role allowed to; when it is refused the search scans the table
    and the migration says so instead of failing."""
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:  # e.g. permission denied
        print(f"\n  pg_trgm is not available ({exc}); the name search will scan the table.")
        return
    # `name__icontains` runs on PostgreSQL as UPPER(name) LIKE '%...%'.
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TRIGRAM} ON jurisdictions_jurisdiction "
        "USING gin (UPPER(name) gin_trgm_ops)"
    )


def drop_name_trigram_index(schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM}")
