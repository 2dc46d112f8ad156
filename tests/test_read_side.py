"""The read side: one representation, one paginator (count once per filter and data version,
cursor walks), one ETag computation, planner statistics, and the FilterSet dropping empty values."""

import pytest
from django.db import connection
from django.http import HttpResponse, QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils.cache import set_response_etag

from jurisdictions.api.serializers import (
    CertificationDetailSerializer,
    EnrollmentDetailSerializer,
    JurisdictionSerializer,
)
from jurisdictions.db.paging import ListPaginator, decode_cursor, encode_cursor
from jurisdictions.db.stats import analyze
from jurisdictions.etags import etag_for
from jurisdictions.filters import JurisdictionFilter
from jurisdictions.filtersets import count_key
from jurisdictions.models import Certification, Enrollment, Jurisdiction, StatusChange
from tests.factories import EnrollmentFactory, JurisdictionFactory, ProgramFactory, RequirementFactory
from tests.problems import errors_of

API = "/api/v1/jurisdictions/"
HTML = "/jurisdictions/"


def count_queries(captured):
    return [q["sql"] for q in captured if "COUNT(*)" in q["sql"].upper()]


def is_version_lookup(sql):
    return "jurisdictions_dataversion" in sql


def get(client, url, status=200):
    """The response and the queries it cost besides the data version lookup, which every public
    read makes once (issue 13; counted in test_a_detail_costs_two_queries and the bench bounds)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == status, response.content[:500]
    return response, [q for q in captured if not is_version_lookup(q["sql"])]


def own_program():
    # Transactional tests make their own: an earlier one may have flushed what migrations created.
    program = ProgramFactory(slug="transactional")
    RequirementFactory(program=program, code="hold_request")
    return program


@pytest.fixture
def towns(db):
    for n in range(12):
        EnrollmentFactory(
            jurisdiction=JurisdictionFactory(name=f"Town {n:02d}"),
            status="letter_sent" if n % 2 else "pending",
        )
    JurisdictionFactory(name="Town without enrollment")
    return Jurisdiction.objects.order_by("pk")


# -- one representation ----------------------------------------------------------------------------


def declared(serializer):
    return list(serializer.fields)


def test_each_jurisdiction_of_the_list_is_exactly_its_detail(client, towns):
    listed = client.get(f"{API}?page_size=100").json()["results"]
    assert len(listed) == 13
    for item in listed:
        assert client.get(f"{API}{item['slug']}/").json() == item


def test_every_object_carries_exactly_the_fields_its_serializer_declares(client, towns):
    item = next(i for i in client.get(API).json()["results"] if i["enrollments"])
    assert list(item) == declared(JurisdictionSerializer())
    enrollment = item["enrollments"][0]
    nested = JurisdictionSerializer().fields["enrollments"].child
    assert list(enrollment) == declared(nested)
    assert list(enrollment["certifications"][0]) == declared(nested.fields["certifications"].child)
    alone = client.get(enrollment["url"]).json()
    assert list(alone) == declared(EnrollmentDetailSerializer())
    assert {k: v for k, v in alone.items() if k not in ("jurisdiction", "jurisdiction_slug")} == enrollment
    certification = enrollment["certifications"][0]
    one = client.get(certification["url"]).json()
    assert list(one) == declared(CertificationDetailSerializer())
    assert {
        k: v for k, v in one.items() if k not in ("enrollment", "jurisdiction", "program")
    } == certification
    assert (one["jurisdiction"], one["program"]) == (item["slug"], enrollment["program"])


@pytest.mark.django_db(transaction=True)
def test_a_detail_costs_two_queries(client):
    # Committed data (in a test's open transaction, Last-Modified would read the database too).
    slug = EnrollmentFactory(program=own_program()).jurisdiction.slug
    with CaptureQueriesContext(connection) as everything:
        _, captured = get(client, f"{API}{slug}/")
    assert len(captured) == 2
    assert [is_version_lookup(q["sql"]) for q in everything].count(True) == 1


# -- count once per filter and data version ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_list_counts_once_per_filter_and_data_version(client):
    program = own_program()
    for n in range(7):
        EnrollmentFactory(
            jurisdiction=JurisdictionFactory(name=f"Town {n}"), program=program, status="letter_sent"
        )
    first, captured = get(client, f"{API}?status=letter_sent&page_size=2")
    assert first.json()["count"] == 7 and len(count_queries(captured)) == 1
    # Other pages and sizes of the same filter, and another ordering: no count, one query less.
    for query in ("page=2&page_size=2", "page=3&page_size=3", "ordering=-name&page_size=2"):
        response, captured = get(client, f"{API}?status=letter_sent&{query}")
        assert response.json()["count"] == 7
        assert count_queries(captured) == []
    # The HTML list shares the count (same FilterSet, same filter).
    page, captured = get(client, f"{HTML}?status=letter_sent&page=2&page_size=2")
    assert count_queries(captured) == [] and page.context["paginator"].count == 7
    # Another filter counts for itself.
    _, captured = get(client, f"{API}?status=pending")
    assert len(count_queries(captured)) == 1
    # A write moves the data version on: the next page counts again, exactly.
    EnrollmentFactory(
        jurisdiction=JurisdictionFactory(name="Town new"), program=program, status="letter_sent"
    )
    response, captured = get(client, f"{API}?status=letter_sent&page=2&page_size=2")
    assert response.json()["count"] == 8 and len(count_queries(captured)) == 1


def test_a_count_is_not_kept_inside_a_transaction_that_wrote(towns):
    # The fixture's writes are not committed (pytest-django's transaction): nothing is cached.
    queryset = Jurisdiction.objects.order_by("name", "state", "pk")
    key = count_key(JurisdictionFilter, QueryDict(""))
    assert ListPaginator(queryset, 5, count_key=key)._cache_key is None


def test_the_count_key_ignores_ordering_pages_and_empty_values():
    key = count_key(JurisdictionFilter, QueryDict("status=pending&state=TN&state=OH"))
    assert key == count_key(
        JurisdictionFilter, QueryDict("state=OH&ordering=-name&state=TN&page=4&status=pending")
    )
    assert key == count_key(
        JurisdictionFilter, QueryDict("state=OH&state=TN&kind=&status=pending&search=%20")
    )
    assert key != count_key(JurisdictionFilter, QueryDict("status=pending&state=TN"))


# -- cursor walks -----------------------------------------------------------------------------------


def walk(client, url):
    seen, pages = [], 0
    while url:
        body = client.get(url).json()
        seen += [item["slug"] for item in body["results"]]
        assert body["previous"] is None
        url, pages = body["next"], pages + 1
    return seen, pages


def test_a_cursor_walk_returns_every_row_once_in_id_order(client, towns):
    seen, pages = walk(client, f"{API}?cursor=&page_size=5")
    assert seen == list(towns.values_list("slug", flat=True))
    assert pages == 3
    filtered, _ = walk(client, f"{API}?cursor=&page_size=4&status=letter_sent")
    assert filtered == list(towns.filter(enrollments__status="letter_sent").values_list("slug", flat=True))


def test_a_cursor_walk_is_stable_under_inserts(client, towns):
    body = client.get(f"{API}?cursor=&page_size=5").json()
    before = [item["slug"] for item in body["results"]]
    # New rows come after every row that existed: the walk neither repeats nor skips one.
    JurisdictionFactory(name="Aaaa first by name")
    seen, _ = walk(client, body["next"])
    assert before + seen == list(Jurisdiction.objects.order_by("pk").values_list("slug", flat=True))


def test_cursor_pages_cost_the_same_at_the_start_and_deep(client, towns):
    first, captured_first = get(client, f"{API}?cursor=&page_size=2")
    deep_url = first.json()["next"]
    for _ in range(4):
        deep_url = client.get(deep_url).json()["next"]
    _, captured_deep = get(client, deep_url)
    # The page, then its enrollments and answers (the count is in the page or kept).
    assert len(captured_deep) <= len(captured_first)
    assert not any("OFFSET" in q["sql"] for q in captured_deep)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("cursor=&page=2", "page"),
        ("cursor=&ordering=name", "ordering"),
    ],
)
def test_a_bad_cursor_or_a_cursor_with_pages_or_ordering_is_a_400_naming_it(client, towns, query, named):
    response = client.get(f"{API}?{query}")
    assert response.status_code == 400
    assert list(errors_of(response)) == [named]


@pytest.mark.parametrize("cursor", ["bogus", "aWQ6eHl6"])  # "id:xyz"
def test_a_cursor_the_api_did_not_give_is_a_404_naming_it(client, towns, cursor):
    response = client.get(f"{API}?cursor={cursor}")
    assert response.status_code == 404
    assert list(errors_of(response)) == ["cursor"]


def test_the_html_list_refuses_a_cursor_by_name(client, towns):
    response = client.get(f"{HTML}?cursor=")
    assert response.status_code == 400
    assert "<code>cursor</code>" in response.content.decode()


def test_a_cursor_is_opaque_text_that_round_trips():
    assert decode_cursor(encode_cursor(12345)) == 12345
    assert decode_cursor("") == 0
    assert "12345" not in encode_cursor(12345)


# -- empty values dropped inside the FilterSet ------------------------------------------------------


def test_the_filterset_drops_empty_values_for_the_api_and_the_page(client, towns):
    filterset = JurisdictionFilter(QueryDict("state=&status=letter_sent&search=%20&ordering="))
    assert dict(filterset.data.lists()) == {"status": ["letter_sent"]}
    api = client.get(f"{API}?state=&kind=&status=letter_sent&answer=&program=&updated_since=")
    assert api.status_code == 200 and api.json()["count"] == 6
    page = client.get(f"{HTML}?state=&kind=&status=letter_sent&answer=&program=&updated_since=")
    assert page.status_code == 200 and page.context["paginator"].count == 6


# -- one ETag computation ------------------------------------------------------------------------------


def test_the_etag_is_djangos_body_hash_so_clients_etags_stay_valid():
    response = HttpResponse(b'{"a":1}')
    set_response_etag(response)
    assert etag_for(b'{"a":1}') == response["ETag"]
    assert etag_for('{"a":1}') == response["ETag"]
    assert etag_for("x", weak=True).startswith('W/"')


def test_list_and_detail_etags_are_the_body_hash(client, towns):
    listed = client.get(API)
    assert listed["ETag"] == etag_for(listed.content)
    detail = client.get(f"{API}{towns.first().slug}/")
    assert detail["ETag"] == etag_for(detail.content)


# -- planner statistics -----------------------------------------------------------------------------


def test_analyze_gives_the_loaded_tables_planner_statistics(towns):
    models = (Jurisdiction, Enrollment, Certification, StatusChange)
    analyze(models)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(DISTINCT tablename) FROM pg_stats WHERE tablename = ANY(%s)",
                [[m._meta.db_table for m in models[:3]]],
            )
        else:
            cursor.execute(
                "SELECT count(DISTINCT tbl) FROM sqlite_stat1 WHERE tbl IN (%s, %s, %s)",
                [m._meta.db_table for m in models[:3]],
            )
        (analyzed,) = cursor.fetchone()
    assert analyzed == 3


# -- the JSON renderer (drf-orjson-renderer) ------------------------------------------------------------


def test_the_renderer_differs_from_drfs_only_in_leaving_line_separators_unescaped():
    import json

    from rest_framework.renderers import JSONRenderer

    from jurisdictions.api.renderers import FastJSONRenderer

    data = {"note": "a\u2028b\u2029c", "n": [1, None]}
    ours, drfs = FastJSONRenderer().render(data), JSONRenderer().render(data)
    assert ours != drfs and json.loads(ours) == json.loads(drfs) == data
    assert ours.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029") == drfs


def test_an_indent_asked_for_goes_to_drfs_renderer():
    from rest_framework.renderers import JSONRenderer

    from jurisdictions.api.renderers import FastJSONRenderer

    data = {"a": [1, 2]}
    indented = FastJSONRenderer().render(data, "application/json; indent=2")
    assert indented == JSONRenderer().render(data, "application/json; indent=2") and b"\n" in indented


@pytest.mark.django_db(transaction=True)
def test_once_a_filter_is_known_the_html_list_costs_the_api_lists_queries_and_the_last_changes(client):
    program = own_program()
    for n in range(6):
        EnrollmentFactory(
            jurisdiction=JurisdictionFactory(name=f"Town {n}"), program=program, status="pending"
        )
    get(client, f"{HTML}?status=pending&page_size=2")  # counts, renders the form, reads the footer
    get(client, f"{API}?status=pending&page_size=2")
    _, html = get(client, f"{HTML}?status=pending&page_size=2&page=2")
    _, api = get(client, f"{API}?status=pending&page_size=2&page=2")
    # The API: the page with its enrollments and answers (one statement on PostgreSQL, the page
    # then its rows elsewhere). The page: the same SQL, and the latest status change of each row,
    # which only the page shows.
    reads = 1 if connection.vendor == "postgresql" else 2
    assert len(api) == reads and len(html) == reads + 1
    assert [q["sql"] for q in html[:reads]] == [q["sql"] for q in api]


def test_a_detail_refuses_list_filters_by_name_instead_of_applying_them(client, towns):
    slug = towns.first().slug
    response = client.get(f"{API}{slug}/?status=participating")
    assert response.status_code == 400
    assert list(errors_of(response)) == ["status"]
    assert client.get(f"{API}{slug}/?format=json").status_code == 200
