"""The raw reference for scripts/bench_load.py: a bare WSGI app that serves the same filtered page
of jurisdictions (and one jurisdiction) with one psycopg2 query and orjson, nothing else.

    gunicorn --pythonpath scripts raw_wsgi:application      # DATABASE_URL and RAW_FILTER in the environment

`GET /list?page=N&page_size=M` is the API list's JSON for the filter RAW_FILTER (a query string of
the API's filters, e.g. status=letter_sent), with the same content (bench.py's RAW_SQL reads every
column and document the API shows, and checks it), and `GET /detail?slug=S` one jurisdiction's. The SQL is
written once at start-up (the FilterSet's own WHERE clause, compiled by Django); each request then
runs it with psycopg2 on one connection per process and writes the body with orjson: the floor that
the tracker is compared to.
"""

import os
import sys
from pathlib import Path
from urllib.parse import parse_qs

import orjson
import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench import RAW_SQL, nest_raw_rows, setup_django  # noqa: E402

setup_django()

from django.db import connection  # noqa: E402
from django.db.models import F  # noqa: E402
from django.http import QueryDict  # noqa: E402
from rest_framework.utils.urls import remove_query_param, replace_query_param  # noqa: E402

from jurisdictions.filters import JurisdictionFilter  # noqa: E402
from jurisdictions.models import Jurisdiction  # noqa: E402


def _sql():
    filterset = JurisdictionFilter(
        QueryDict(os.environ.get("RAW_FILTER", "")), queryset=Jurisdiction.objects.all()
    )
    if not filterset.is_valid():
        raise SystemExit(f"RAW_FILTER is not a valid filter: {filterset.errors}")
    matching = filterset.qs.order_by("name", "state", "pk")
    page_sql, page_params = matching.values(page_id=F("pk")).query.sql_with_params()
    count_sql, count_params = matching.values("pk").order_by().query.sql_with_params()
    list_sql = RAW_SQL.format(page_sql=f"{page_sql} LIMIT %s OFFSET %s", count_sql=count_sql)
    one = Jurisdiction.objects.filter(slug="x").values(page_id=F("pk")).query.sql_with_params()[0]
    detail_sql = RAW_SQL.format(page_sql=one, count_sql="SELECT 1")
    return list_sql, page_params, count_params, detail_sql


RAW_FILTER = os.environ.get("RAW_FILTER", "")
LIST_SQL, PAGE_PARAMS, COUNT_PARAMS, DETAIL_SQL = _sql()
DSN = {k: v for k, v in connection.get_connection_params().items() if k != "cursor_factory"}
connection.close()  # Django's connection is not used to serve
BASE = os.environ.get("RAW_BASE", "http://127.0.0.1")
_db = None


def _cursor():
    global _db
    if _db is None or _db.closed:
        _db = psycopg2.connect(**DSN)
        _db.autocommit = True
    return _db.cursor()


def _number(query, name, default):
    try:
        return max(1, int(query.get(name, [default])[0]))
    except ValueError:
        return default


def _links(environ, page, size, total):
    """`next` and `previous` as the API writes them for the same filter and page."""
    url = f"{BASE}/api/v1/jurisdictions/?{'&'.join(filter(None, (RAW_FILTER, environ.get('QUERY_STRING'))))}"
    previous = None
    if page > 1:
        previous = replace_query_param(url, "page", page - 1) if page > 2 else remove_query_param(url, "page")
    return {
        "next": replace_query_param(url, "page", page + 1) if page * size < total else None,
        "previous": previous,
    }


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    query = parse_qs(environ.get("QUERY_STRING", ""))
    with _cursor() as cursor:
        if path == "/list":
            size = min(_number(query, "page_size", 50), 500)
            page = _number(query, "page", 1)
            cursor.execute(LIST_SQL, [*PAGE_PARAMS, size, (page - 1) * size, *COUNT_PARAMS])
            rows = cursor.fetchall()
            total = rows[0][-1] if rows else 0
            body = {
                "count": total,
                **_links(environ, page, size, total),
                "results": nest_raw_rows(rows, BASE),
            }
        elif path == "/detail":
            cursor.execute(DETAIL_SQL, [query.get("slug", [""])[0]])
            results = nest_raw_rows(cursor.fetchall(), BASE)
            if not results:
                start_response("404 Not Found", [("Content-Type", "application/json")])
                return [b'{"detail":"Not found."}']
            body = results[0]
        else:
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"detail":"Not found."}']
    data = orjson.dumps(body, option=orjson.OPT_UTC_Z)
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
