"""Queries that every API list request runs, compiled to SQL once per process instead of per request.

The API list reads its page's enrollments and answers as one `values_list` query of 30 columns over
six tables. Building and compiling that query through the ORM cost about 1.4 ms of CPU per request,
more than PostgreSQL needs to plan and run it for a page of 50 jurisdictions (docs/performance.md).
Its SQL never changes except for the page's ids, so on PostgreSQL the ids travel as one array
parameter (`= ANY(%s)`) and the SQL text is compiled the first time and reused. Other databases run
the queryset as usual (an `IN` list, compiled each time): same rows, same order.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections

from .lookups import where_in


class CompiledRows:
    """The rows of a `values_list` queryset narrowed to `<column> IN ids`, as tuples.

        ENROLLMENT_ROWS = CompiledRows(lambda: Enrollment.objects.values_list(...), "jurisdiction_id")
        ENROLLMENT_ROWS.rows([3, 5, 8])

    `build` returns the queryset (a function, because models are not ready when this module is
    imported); it must not depend on the request or on the data.
    """

    def __init__(self, build, column):
        self.build = build
        self.column = column
        self._sql = {}  # database alias -> SQL with one %s for the array of ids

    def rows(self, ids, using=DEFAULT_DB_ALIAS):
        ids = list(ids)
        if not ids:
            return []  # as the ORM does for an empty IN list: no query at all
        connection = connections[using]
        if connection.vendor != "postgresql":
            return list(where_in(self.build().using(using), self.column, ids))
        sql = self._sql.get(using)
        if sql is None:
            sql = self._sql[using] = self._compile(connection)
        with connection.cursor() as cursor:
            cursor.execute(sql, [ids])
            return cursor.fetchall()

    def _compile(self, connection):
        queryset = where_in(self.build().using(connection.alias), self.column, [])
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        # The cursor's rows stand in for the queryset's only if Django would not convert any value
        # on the way (true of the plain columns PostgreSQL returns as Python types) and if the ids
        # are the only parameter.
        converters = compiler.get_converters([expression for expression, _, _ in compiler.select])
        if len(params) != 1 or converters:
            raise ImproperlyConfigured(
                f"{type(self).__name__} takes plain columns and no parameters but the ids; "
                f"got {len(params)} parameters and converters for columns {sorted(converters)}."
            )
        return sql
