"""Array-parameter lookups: one `= ANY(%s)` instead of an IN list of thousands of values."""

from django.db import connections


def where_in(queryset, column, values):
    """`queryset` narrowed to rows whose `column` is one of `values`.

    On PostgreSQL the values travel as one array parameter (`= ANY(%s)`): an `__in` lookup of
    thousands of values costs Django more to build than the query costs to run, and the SQL text
    stays the same whatever their number. Other databases get the `__in` lookup.
    """
    values = list(values)
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return queryset.filter(**{f"{column}__in": values})
    quote = connection.ops.quote_name
    where = f"{quote(queryset.model._meta.db_table)}.{quote(column)} = ANY(%s)"
    return queryset.extra(where=[where], params=[values])
