"""Planner statistics after a bulk write.

A bulk load (the importer's COPY, `generate_jurisdictions`) leaves PostgreSQL without statistics on
the rows it wrote until autovacuum gets to them, which can take minutes; meanwhile the planner
guesses, and at 90,000 jurisdictions a list's count took 200 ms instead of 20 and its page 50 ms
instead of 10 (issue 15). `analyze` refreshes them at once, inside the caller's transaction (ANALYZE
may run in one; its statistics then commit with the rows). SQLite's ANALYZE is cheap too and helps
its planner the same way.
"""

from django.db import DEFAULT_DB_ALIAS, connections


def tables_of(models):
    """The tables of `models` and of their simple-history models, in order, without repeats."""
    tables = []
    for model in models:
        for each in (model, getattr(getattr(model, "history", None), "model", None)):
            if each is not None and each._meta.db_table not in tables:
                tables.append(each._meta.db_table)
    return tables


def analyze(models, using=DEFAULT_DB_ALIAS):
    """ANALYZE the tables of `models` (and their history tables)."""
    connection = connections[using]
    quote = connection.ops.quote_name
    tables = [quote(table) for table in tables_of(models)]
    if not tables:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {', '.join(tables)}")
        elif connection.vendor == "sqlite":
            for table in tables:
                cursor.execute(f"ANALYZE {table}")
