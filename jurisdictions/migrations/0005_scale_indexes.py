"""Indexes for the jurisdiction list at national scale (90,000 rows), chosen from EXPLAIN ANALYZE.

docs/performance.md has the plans before and after. These are database-only (no model state), so
they are written as SQL: plain b-tree indexes on every database, plus a trigram GIN index for the
name search on PostgreSQL only (SQLite has no pg_trgm; its search stays a scan, which is fine at the
sizes SQLite serves). Creating the pg_trgm extension needs a role allowed to create extensions;
when it is refused the migration goes on without the trigram index and says so.
"""

from django.db import DatabaseError, migrations, transaction

BTREE = [
    # Default order of the list and the API (name, state, then id as the tie-break): the first and
    # the deep pages read the index in order instead of sorting 90,000 rows.
    ("jurisdiction_name_state_idx", "jurisdictions_jurisdiction", "name, state, id"),
    # The `kind` filter, ordered by name.
    ("jurisdiction_kind_name_idx", "jurisdictions_jurisdiction", "kind, name, state"),
    # The `updated_since` filter and the `-updated_at` ordering.
    ("jurisdiction_updated_at_idx", "jurisdictions_jurisdiction", "updated_at"),
]

TRIGRAM = "jurisdiction_name_trgm_idx"


def create_btree(apps, schema_editor):
    for name, table, columns in BTREE:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})")


def drop_btree(apps, schema_editor):
    for name, _, _ in BTREE:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def create_trigram(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:  # e.g. permission denied: go on without the trigram index
        print(f"\n  pg_trgm is not available ({exc}); the name search will scan the table.")
        return
    # The `search` filter is `name__icontains`, which PostgreSQL runs as UPPER(name) LIKE '%...%'.
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TRIGRAM} ON jurisdictions_jurisdiction "
        "USING gin (UPPER(name) gin_trgm_ops)"
    )


def drop_trigram(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM}")


class Migration(migrations.Migration):
    dependencies = [("jurisdictions", "0004_roles")]

    operations = [
        migrations.RunPython(create_btree, drop_btree),
        migrations.RunPython(create_trigram, drop_trigram),
    ]
