"""Queries that every API list request runs, compiled to SQL once per process instead of per request.

The API list reads its page's enrollments and answers as one `values_list` query of 30 columns over
six tables. Building and compiling that query through the ORM cost about 1.4 ms of CPU per request,
more than PostgreSQL needs to plan and run it for a page of 50 jurisdictions (docs/performance.md).
Its SQL never changes except for the page's ids, so on PostgreSQL the ids travel as one array
parameter (`= ANY(%s)`) and the SQL text is compiled the first time and reused. Other databases run
the queryset as usual (an `IN` list, compiled each time): same rows, same order.

`CompiledRowsCitingDocuments` does the same for a query that reads the documents table through
several foreign keys: on PostgreSQL it reads each document once per page instead of joining the table
once per key (its note says what that buys).
"""

from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Window
from django.db.models.functions import RowNumber
from django.db.models.query import get_related_populators

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


class CompiledRowsCitingDocuments(CompiledRows):
    """`CompiledRows` of a queryset that reads a small table (the documents) through several foreign
    keys, each as the same run of columns, without joining that table once per key.

        CompiledRowsCitingDocuments(build, "jurisdiction_id", model=Source,
            fields=("title", "url"), paths=("source", "certifications__source"))

    `build()` returns the whole `values_list`, ordered and unfiltered (its definition, and what
    other databases run):
    for each path of `paths`, the columns `<path>__<field>` for `fields`, next to each other in that
    order. On PostgreSQL one statement reads the rows with each path's id instead of its columns,
    and, on its first row, the distinct documents those ids name (one array); the rows are then
    rebuilt in Python, equal value for value to the queryset's (tests/test_compiled.py).

    Why: each joined copy of the table made the planner's work grow steeply. With four (an answer's
    two documents, the enrollment's and its site type's), PostgreSQL spent about 2.7 ms planning
    and 1.1 ms running the page's query (page of 50 at 90,000 jurisdictions); reading the page
    without them and the few documents it cites once costs about 0.5 ms planning and 0.9 ms
    running (docs/performance.md, "Issue 12's figures on a quiet machine").
    """

    ORDINAL = "psp_ordinal"

    def __init__(self, build, column, *, model, fields, paths):
        super().__init__(build, column)
        self.model, self.fields, self.paths = model, tuple(fields), tuple(paths)
        self._plan = None  # (positions of the id columns, number of columns of the rows)

    def rows(self, ids, using=DEFAULT_DB_ALIAS):
        ids = list(ids)
        connection = connections[using]
        if not ids or connection.vendor != "postgresql":
            return super().rows(ids, using)
        sql = self._sql.get(using)
        if sql is None:
            sql = self._sql[using] = self._compile(connection)
        with connection.cursor() as cursor:
            cursor.execute(sql, [ids])
            found = cursor.fetchall()
        if not found:
            return []
        return self._rebuild(found, self._documents(found[0][-1]))

    def _rebuild(self, found, documents, offset=0):
        """The queryset's rows from the statement's (each read from column `offset` on), with each
        path's id replaced by its document's columns."""
        id_positions, width = self._plan
        blank = (None,) * len(self.fields)
        rows = []
        for row in found:
            rebuilt, start = [], offset
            for position in id_positions:
                rebuilt.extend(row[start : offset + position])
                key = row[offset + position]
                rebuilt.extend(blank if key is None else documents[key])
                start = offset + position + 1
            rebuilt.extend(row[start : offset + width])
            rows.append(tuple(rebuilt))
        return rows

    def rows_under(self, parents, using=DEFAULT_DB_ALIAS):
        """[(parent, [its rows])] for `parents`, a `values_list` queryset (ordered, often a page
        slice) whose first column is the key that `column` refers to, in the parents' order; a
        parent without rows has an empty list.

        On PostgreSQL this is one statement: the parents, then the rows of all of them and the
        documents they cite, as `rows` reads them, joined to them; the page of a list and what it
        shows come back in one round trip, as a hand-written query would (scripts/bench.py's raw
        reference), instead of the parents' query followed by `rows(their ids)`. Other databases
        run those two queries."""
        connection = connections[using]
        if connection.vendor != "postgresql":
            found = [tuple(parent) for parent in parents.using(using)]
            children, key = {}, list(self.build()._fields).index(self.column)
            for row in self.rows([parent[0] for parent in found], using):
                children.setdefault(row[key], []).append(row)
            return [(parent, children.get(parent[0], [])) for parent in found]
        template = self._sql.get((using, "under"))
        if template is None:
            template = self._sql[(using, "under")] = self._compile_under(connection)
        compiler = parents.query.get_compiler(using=using)
        try:
            parents_sql, params = compiler.as_sql()
        except EmptyResultSet:  # a filter that matches nothing by construction (`pk__in=[]`)
            return []
        # Columns as the database gives them, but for an annotation's cast (COUNT is an int already).
        columns = [expression for expression, _, _ in compiler.select]
        if compiler.get_converters(
            [c for c in columns if c not in compiler.query.annotation_select.values()]
        ):
            raise ImproperlyConfigured(f"{type(self).__name__}.rows_under takes plain columns only.")
        width = len(columns)
        names = ", ".join(f"p{n}" for n in range(width))
        numbered = (
            f"SELECT {names}, row_number() OVER () AS psp_parent FROM ({parents_sql}) AS parent ({names})"
        )
        sql = template.replace(self.PARENTS, numbered)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        # The document array rides on the one row that holds the first of all rows.
        documents = self._documents(next((row[-1] for row in found if row[-1] is not None), None))
        result, key = [], width + 1 + self._under_key
        for row in found:
            if not result or result[-1][2] != row[width]:
                result.append((row[:width], [], row[width]))
            if row[key] is not None:
                result[-1][1].append(row)
        return [(parent, self._rebuild(rows, documents, width + 1)) for parent, rows, _ in result]

    PARENTS = "/*psp:parents*/"

    def _documents(self, found):
        """{id: the fields' values, as the ORM gives them} from the statement's array of documents."""
        fields = [self.model._meta.get_field(name) for name in self.fields]
        return {
            int(values[0]): tuple(
                field.to_python(value) for field, value in zip(fields, values[1:], strict=True)
            )
            for values in found or ()
        }

    def _base_names(self):
        """The queryset's column names with each path's run of document columns as the path's id."""
        names = list(self.build()._fields)
        for path in self.paths:
            run = [f"{path}__{field}" for field in self.fields]
            start = names.index(run[0])
            if names[start : start + len(run)] != run:
                raise ImproperlyConfigured(f"The columns of {path} must be {run}, next to each other.")
            names[start : start + len(run)] = [path]
        return names

    def _compile(self, connection):
        full = self.build()
        if full.query.where:
            raise ImproperlyConfigured(f"{type(self).__name__} takes an unfiltered queryset.")
        names = self._base_names()
        # A fresh queryset: the full one has joined the documents' table already.
        base = full.model._default_manager.order_by(*full.query.order_by).values_list(*names)
        # The statement's order is the queryset's, kept explicitly through the CTE by a row number.
        numbered = base.annotate(
            **{self.ORDINAL: Window(RowNumber(), order_by=list(full.query.order_by))}
        ).values_list(*names, self.ORDINAL)
        queryset = where_in(numbered.using(connection.alias), self.column, [])
        compiler = queryset.query.get_compiler(connection=connection)
        inner, params = compiler.as_sql()
        columns = [expression for expression, _, _ in compiler.select]
        converters = compiler.get_converters(columns[:-1])  # the row number is an int already
        if len(params) != 1 or converters:
            raise ImproperlyConfigured(
                f"{type(self).__name__} takes plain columns and no parameters but the ids; "
                f"got {len(params)} parameters and converters for columns {sorted(converters)}."
            )
        width = len(names)
        self._plan = ([names.index(path) for path in self.paths], width)
        quote = connection.ops.quote_name
        meta = self.model._meta
        cells = ", ".join(
            f"d.{quote(meta.get_field(name).column)}::text" for name in (meta.pk.name, *self.fields)
        )
        cited = " UNION ".join(f"SELECT c{names.index(path)} FROM page" for path in self.paths)
        listed = ", ".join(f"c{n}" for n in range(width + 1))
        self._parts = (inner, listed, width, cells, cited)
        return (
            f"WITH page ({listed}) AS MATERIALIZED ({inner}) "
            f"SELECT {', '.join(f'c{n}' for n in range(width))}, "
            f"CASE WHEN c{width} = 1 THEN (SELECT array_agg(ARRAY[{cells}]) "
            f"FROM {quote(meta.db_table)} d WHERE d.{quote(meta.pk.column)} IN ({cited})) END "
            f"FROM page ORDER BY c{width}"
        )

    def _compile_under(self, connection):
        """`rows_under`'s statement, with PARENTS where the parents' SELECT goes (it numbers them
        in the order its ORDER BY gives, which a subquery's output keeps): the rows' ids are then
        the parents' keys instead of a parameter."""
        self._compile(connection)
        inner, listed, width, cells, cited = self._parts
        if inner.count("%s") != 1 or "= ANY(%s)" not in inner:
            raise ImproperlyConfigured(f"{type(self).__name__} expects its ids as one array parameter.")
        inner = inner.replace("= ANY(%s)", "= ANY(ARRAY(SELECT p0 FROM parents))")
        quote = connection.ops.quote_name
        meta = self.model._meta
        key = self._under_key = self._base_names().index(self.column)
        return (
            f"WITH parents AS MATERIALIZED ({self.PARENTS}), "
            f"page ({listed}) AS MATERIALIZED ({inner}) "
            f"SELECT parents.*, {', '.join(f'page.c{n}' for n in range(width))}, "
            f"CASE WHEN page.c{width} = 1 THEN (SELECT array_agg(ARRAY[{cells}]) "
            f"FROM {quote(meta.db_table)} d WHERE d.{quote(meta.pk.column)} IN ({cited})) END "
            f"FROM parents LEFT JOIN page ON page.c{key} = parents.p0 "
            f"ORDER BY parents.psp_parent, page.c{width}"
        )


class CompiledQuery:
    """The rows of a `values_list` queryset that takes no parameters, as tuples: on PostgreSQL its
    SQL is compiled the first time and reused; other databases run the queryset.

        FOOTER_DATES = CompiledQuery(lambda: StatusChange.objects.values_list(...)[:1])

    For the small fixed lookups every public page makes once per data version (the footer's): the
    ORM spent about 2 ms compiling three subqueries whose run takes 0.4 ms (docs/performance.md).
    """

    def __init__(self, build):
        self.build = build
        self._sql = {}  # database alias -> (SQL, params)

    def rows(self, using=DEFAULT_DB_ALIAS):
        connection = connections[using]
        if connection.vendor != "postgresql":
            return [tuple(row) for row in self.build().using(using)]
        compiled = self._sql.get(using)
        if compiled is None:
            compiled = self._sql[using] = self._compile(connection)
        with connection.cursor() as cursor:
            cursor.execute(*compiled)
            return cursor.fetchall()

    def _compile(self, connection):
        compiler = self.build().using(connection.alias).query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        # As CompiledRows: the cursor's rows stand in for the queryset's only when Django would
        # convert no value on the way.
        if compiler.get_converters([expression for expression, _, _ in compiler.select]):
            raise ImproperlyConfigured(f"{type(self).__name__} takes columns Django does not convert.")
        return sql, params


class CompiledObjects:
    """Model instances of a queryset with `select_related` (each with the instances its foreign
    keys name), for one parameter value: on PostgreSQL the SQL is compiled the first time and
    reused, and Django's own populators turn each row into the same instances the queryset would
    give; other databases run the queryset.

        ENROLLMENTS = CompiledObjects(lambda slug: Enrollment.objects.select_related(...).filter(...))
        ENROLLMENTS.objects("memphis-tn")

    `build(value)` must give SQL that does not depend on the value (`= %s` for a string,
    `where_in`'s `= ANY(%s)` for a list) and take it as its only parameter. For the record page:
    compiling two queries of five joined tables cost about 3.5 ms a request, running them 1.6 ms.
    """

    def __init__(self, build):
        self.build = build
        self._compiled = {}  # database alias -> (SQL, how to turn a row into instances)

    def objects(self, value, using=DEFAULT_DB_ALIAS):
        connection = connections[using]
        if connection.vendor != "postgresql":
            return list(self.build(value).using(using))
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compiled[using] = self._compile(value, connection)
        sql, model, init_list, start, end, populators = compiled
        with connection.cursor() as cursor:
            cursor.execute(sql, [value])
            rows = cursor.fetchall()
        found = []
        for row in rows:
            instance = model.from_db(using, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, instance)
            found.append(instance)
        return found

    def _compile(self, value, connection):
        queryset = self.build(value).using(connection.alias)
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        if list(params) != [value] or compiler.annotation_col_map:
            raise ImproperlyConfigured(
                f"{type(self).__name__} takes one parameter, the value, and no annotations."
            )
        if compiler.get_converters([expression for expression, _, _ in compiler.select]):
            raise ImproperlyConfigured(f"{type(self).__name__} takes columns Django does not convert.")
        # As django.db.models.query.ModelIterable reads a compiled query's rows.
        info = compiler.klass_info
        start, end = info["select_fields"][0], info["select_fields"][-1] + 1
        init_list = [column[0].target.attname for column in compiler.select[start:end]]
        populators = get_related_populators(info, compiler.select, connection.alias)
        return sql, info["model"], init_list, start, end, populators
