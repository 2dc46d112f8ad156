"""Indexes for the jurisdiction list at national scale (90,000 rows), chosen from EXPLAIN ANALYZE.

docs/performance.md has the plans before and after. These are database-only (no model state), so
they are written as SQL: plain b-tree indexes on every database, plus a trigram GIN index for the
name search on PostgreSQL only (SQLite has no pg_trgm; its search stays a scan, which is fine at the
sizes SQLite serves). Creating the pg_trgm extension needs a role allowed to create extensions;
when it is refused the migration goes on without the trigram index and says so.
"""

from django.db import migrations

from jurisdictions.db.indexes import create_name_trigram_index, drop_name_trigram_index

BTREE = [
    # Default order of the list and the API (name, state, then id as the tie-break): the first and
    # the deep pages read the index in order instead of sorting 90,000 rows.
    ("jurisdiction_name_state_idx", "jurisdictions_jurisdiction", "name, state, id"),
    # The `kind` filter, ordered by name.
    ("jurisdiction_kind_name_idx", "jurisdictions_jurisdiction", "kind, name, state"),
    # The `updated_since` filter and the `-updated_at` ordering.
    ("jurisdiction_updated_at_idx", "jurisdictions_jurisdiction", "updated_at"),
]


def create_btree(apps, schema_editor):
    for name, table, columns in BTREE:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})")


def drop_btree(apps, schema_editor):
    for name, _, _ in BTREE:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


# PostgreSQL only: the vendor check lives in the database seam with the others.
def create_trigram(apps, schema_editor):
    create_name_trigram_index(schema_editor)


def drop_trigram(apps, schema_editor):
    drop_name_trigram_index(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("jurisdictions", "0004_roles")]

    operations = [
        migrations.RunPython(create_btree, drop_btree),
        migrations.RunPython(create_trigram, drop_trigram),
    ]
