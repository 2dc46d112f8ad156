"""Issue 13: Redis is an accelerator only, a committed write is never read stale, the cache cannot be
poisoned through the Host header, and every request's work is bounded.

The Redis tests run a redis-server of their own (a free port on 127.0.0.1, no persistence) so that
they can stop it or pause it (SIGSTOP) without touching the machine's shared Redis; they are skipped
with a message where redis-server is not installed.
"""

import datetime
import logging
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
import time_machine
from django.core.cache import caches
from django.urls import reverse

from jurisdictions import services
from jurisdictions.cache import data_version
from jurisdictions.models import Jurisdiction
from jurisdictions.transfer.importer import import_jurisdictions
from jurisdictions.transfer.limits import MAX_COLUMNS
from tests.factories import EnrollmentFactory, JurisdictionFactory, ProgramFactory, RequirementFactory

REDIS_SERVER = shutil.which("redis-server")
REDIS_DB = os.environ.get("PSP_TEST_REDIS_DB", "5")


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A throwaway redis-server that a test may stop, pause and resume."""

    def __init__(self):
        self.port = _free_port()
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/{REDIS_DB}"

    def pause(self):
        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        self.process.send_signal(signal.SIGCONT)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(settings):
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    from psp_tracker import cache_backends

    cache_backends._circuits.clear()  # a port reused from an earlier test starts with a closed circuit
    server = RedisServer()
    options = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2, "RETRY_SECONDS": 0.5}
    backend = "psp_tracker.cache_backends.ResilientRedisCache"
    settings.REDIS_URL = settings.REDIS_COUNTERS_URL = server.url
    settings.CACHES = {
        "default": {"BACKEND": backend, "LOCATION": server.url, "KEY_PREFIX": "t", "OPTIONS": options},
        "throttle": {"BACKEND": backend, "LOCATION": server.url, "KEY_PREFIX": "tc", "OPTIONS": options},
    }
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def timed_get(client, path, **extra):
    started = time.monotonic()
    response = client.get(path, **extra)
    if response.streaming:
        b"".join(response.streaming_content)
    return response, time.monotonic() - started


PUBLIC_PATHS = [
    "/",
    "/jurisdictions/",
    "/jurisdictions/memphis-tn/",
    "/jurisdictions/?format=csv",
    "/api/v1/jurisdictions/",
    "/api/v1/jurisdictions/memphis-tn/",
    "/api/v1/jurisdictions/?format=csv",
    "/feeds/changes/",
]


# --- Redis stopped, paused ------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_public_page_answers_from_the_database_while_redis_is_stopped(client, redis_server, committed):
    with committed():
        EnrollmentFactory(jurisdiction=JurisdictionFactory(name="Memphis", state="TN"))
    for path in PUBLIC_PATHS:  # warm the cache while Redis runs
        assert client.get(path).status_code == 200, path
    redis_server.stop()
    for path in PUBLIC_PATHS:
        response, seconds = timed_get(client, path)
        assert response.status_code == 200, path
        assert seconds < 1.0, (path, seconds)
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ok", "database": "ok", "cache": "degraded"})


@pytest.mark.django_db
def test_a_paused_redis_costs_at_most_its_timeout_and_then_nothing(client, redis_server, committed):
    with committed():
        EnrollmentFactory(jurisdiction=JurisdictionFactory(name="Memphis", state="TN"))
    client.get("/jurisdictions/")
    redis_server.pause()
    try:
        first, first_seconds = timed_get(client, "/api/v1/jurisdictions/memphis-tn/")
        assert first.status_code == 200
        assert first_seconds < 1.0  # the read timeout (0.2 s here), not the kernel's minutes
        for path in PUBLIC_PATHS:  # the circuit is open: no more waiting on Redis
            response, seconds = timed_get(client, path)
            assert (response.status_code, seconds < 0.5) == (200, True), (path, seconds)
        assert client.get("/readyz").json()["cache"] == "degraded"
    finally:
        redis_server.resume()


@pytest.mark.django_db(transaction=True)
def test_a_write_made_while_redis_is_paused_is_seen_by_the_next_read_after_it_returns(client, redis_server):
    """Real commits (a transactional test): the version row moves on in the write's own transaction."""
    # Its own program: an earlier transactional test may have flushed what the migrations created.
    program = ProgramFactory(slug="paused")
    RequirementFactory(program=program, code="hold_request")
    enrollment = EnrollmentFactory(
        jurisdiction=JurisdictionFactory(name="Stockton", state="CA"), program=program
    )
    page = reverse("jurisdictions:jurisdiction-detail", kwargs={"slug": "stockton-ca"})
    api = "/api/v1/jurisdictions/stockton-ca/"
    assert client.get(page)["X-Cache"] == "miss"
    assert client.get(api).json()["enrollments"][0]["status"] == "pending"
    assert (client.get(page)["X-Cache"], client.get(api)["X-Cache"]) == ("hit", "hit")  # both in Redis

    redis_server.pause()
    try:
        from django.contrib.auth import get_user_model

        editor = get_user_model().objects.create_user(
            "editor", password="a-long-test-password", is_staff=True
        )
        services.enrollment_set_status(
            enrollment=enrollment, status="letter_sent", user=editor, via="admin", letter_sent_on=None
        )
    finally:
        redis_server.resume()
    time.sleep(0.6)  # past RETRY_SECONDS: the circuit closes and Redis is read again
    fresh = client.get(api)
    assert fresh.json()["enrollments"][0]["status"] == "letter_sent"
    assert b"Letter sent" in client.get(page).content
    assert caches["default"].degraded is False  # these reads went to Redis, which answered


@pytest.mark.django_db
def test_redis_errors_are_logged_once_per_interval_not_once_per_request(
    client, redis_server, caplog, committed
):
    with committed():
        EnrollmentFactory(jurisdiction=JurisdictionFactory(name="Memphis", state="TN"))
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="psp_tracker.cache"):
        for _ in range(20):
            assert client.get("/api/v1/jurisdictions/").status_code == 200
    warnings = [r.getMessage() for r in caplog.records if r.name == "psp_tracker.cache"]
    # One line per cache (responses, counters) for the whole interval, not one per request.
    assert sorted(m.split(" (")[0] for m in warnings) == [
        "redis unavailable for the 't' cache",
        "redis unavailable for the 'tc' cache",
    ]


@pytest.mark.django_db
def test_throttles_count_per_process_while_redis_is_down(client, redis_server, settings):
    settings.PUBLIC_RATE = "3/minute"
    redis_server.stop()
    statuses = [client.get("/jurisdictions/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


# --- The data version ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_version_row_moves_on_in_the_transaction_that_commits_the_write():
    from django.db import transaction

    before = data_version()
    with transaction.atomic():
        JurisdictionFactory(name="Modesto", state="CA")
        assert data_version() == before  # not bumped before the commit
    after = data_version()
    assert after.token != before.token and after.modified > before.modified - 1
    with pytest.raises(RuntimeError), transaction.atomic():
        JurisdictionFactory(name="Fresno", state="CA")
        raise RuntimeError("rolled back")
    assert data_version() == after
    Jurisdiction.objects.filter(name="Modesto").update(ocd_id="ocd-division/country:us")  # autocommit
    assert data_version().token != after.token


@pytest.mark.django_db
def test_a_cached_read_costs_one_query_the_version_lookup(client, committed, django_assert_num_queries):
    with committed():
        JurisdictionFactory(name="Memphis", state="TN")
    client.get("/api/v1/jurisdictions/")
    with django_assert_num_queries(1) as queries:
        assert client.get("/api/v1/jurisdictions/")["X-Cache"] == "hit"
    assert "jurisdictions_dataversion" in queries.captured_queries[0]["sql"]


# --- Host poisoning --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_foreign_host_port_is_refused_and_the_next_client_gets_clean_urls(client, committed):
    with committed():
        EnrollmentFactory(jurisdiction=JurisdictionFactory(name="Memphis", state="TN"))
    poisoned = client.get("/api/v1/jurisdictions/", HTTP_HOST="testserver:31337")
    assert poisoned.status_code == 400
    also = client.get("/api/v1/jurisdictions/?page_size=1", HTTP_HOST="testserver:31337")
    assert also.status_code == 400
    for path in ("/api/v1/jurisdictions/", "/api/v1/jurisdictions/?page_size=1"):
        body = client.get(path).content.decode()
        assert "31337" not in body
        assert "http://testserver/api/v1/enrollments/" in body


@pytest.mark.django_db
def test_responses_are_cached_per_host_and_scheme(client, committed, settings):
    settings.ALLOWED_HOST_PORTS = ["testserver:8443"]
    with committed():
        EnrollmentFactory(jurisdiction=JurisdictionFactory(name="Memphis", state="TN"))
    other = client.get("/api/v1/jurisdictions/", HTTP_HOST="testserver:8443", secure=True)
    assert "https://testserver:8443/api/v1/enrollments/" in other.content.decode()
    plain = client.get("/api/v1/jurisdictions/")
    assert plain["X-Cache"] == "miss"
    assert "8443" not in plain.content.decode() and "https://" not in plain.content.decode()


@pytest.mark.django_db
def test_with_a_public_base_url_absolute_urls_never_come_from_the_host_header(client, committed, settings):
    settings.PUBLIC_BASE_URL = "https://psp.example.org"
    settings.ALLOWED_HOST_PORTS = ["testserver:8443"]
    with committed():
        EnrollmentFactory(jurisdiction=JurisdictionFactory(name="Memphis", state="TN"))
    for host in ("testserver", "testserver:8443"):
        body = client.get("/api/v1/jurisdictions/?page_size=1", HTTP_HOST=host).json()
        assert body["next"] is None or body["next"].startswith("https://psp.example.org/")
        assert body["results"][0]["enrollments"][0]["url"].startswith("https://psp.example.org/api/v1/")


def test_a_listed_host_port_pair_is_accepted_and_the_default_port_always(client, settings, db):
    settings.ALLOWED_HOST_PORTS = ["testserver:8443"]
    assert client.get("/healthz", HTTP_HOST="testserver:8443").status_code == 200
    assert client.get("/healthz", HTTP_HOST="testserver:80").status_code == 200
    assert client.get("/healthz", HTTP_HOST="testserver:8444").status_code == 400


# --- Bounded work: CSV -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_csv_of_100000_columns_is_refused_in_under_a_second_naming_the_limit():
    header = ",".join(f"c{i}" for i in range(100_000))
    data = (header + "\n" + ",".join("x" for _ in range(100_000)) + "\n").encode()
    started = time.monotonic()
    report = import_jurisdictions(data, filename="wide.csv", commit=False)
    seconds = time.monotonic() - started
    assert seconds < 1.0
    assert not report.ok
    (error,) = report.errors
    assert "100,000 columns" in error.message and f"at most {MAX_COLUMNS}" in error.message
    assert "limit on columns" in error.message


@pytest.mark.django_db
def test_the_admin_import_refuses_a_100000_column_file_quickly(admin_client):
    header = ",".join(f"c{i}" for i in range(100_000))
    upload = __import__("io").BytesIO((header + "\n").encode())
    upload.name = "wide.csv"
    started = time.monotonic()
    response = admin_client.post(
        reverse("admin:jurisdictions_jurisdiction_import"), {"file": upload}, follow=True
    )
    assert time.monotonic() - started < 2.0
    assert response.status_code == 200
    assert response.context["job"].state == "failed"
    assert "limit on columns" in response.content.decode()


@pytest.mark.django_db
def test_a_file_past_the_row_limit_is_refused_naming_it(psp):
    header = "name,state,kind"
    rows = "\n".join(f"Town {i},TN,city" for i in range(12))
    report = import_jurisdictions(f"{header}\n{rows}\n".encode(), commit=False, max_rows=10)
    assert not report.ok
    assert any("more than 10 rows" in e.message for e in report.errors)


@pytest.mark.django_db
def test_a_repeated_column_is_still_named(psp):
    report = import_jurisdictions(b"name,state,kind,name\nA,TN,city,B\n", commit=False)
    assert [(e.column, e.message) for e in report.errors] == [("name", "This column appears more than once.")]


# --- Rate limits -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_pages_feeds_and_csv_are_rate_limited_with_retry_after(client, settings, admin_user):
    settings.PUBLIC_RATE = "4/minute"
    settings.PUBLIC_CSV_RATE = "1/minute"
    assert client.get("/jurisdictions/?format=csv").status_code == 200
    csv_refused = client.get("/jurisdictions/?format=csv")
    assert csv_refused.status_code == 429
    assert 1 <= int(csv_refused["Retry-After"]) <= 60
    assert [client.get(p).status_code for p in ("/", "/feeds/changes/")] == [200, 200]
    refused = client.get("/jurisdictions/")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "Too many requests" in refused.content.decode()
    # Another address has its own count; staff are not limited.
    assert client.get("/jurisdictions/", REMOTE_ADDR="192.0.2.77").status_code == 200
    client.force_login(admin_user)
    assert client.get("/jurisdictions/").status_code == 200


def test_the_default_rates_leave_room_for_any_reader():
    from django.conf import settings

    from psp_tracker.ratelimit import Rate

    assert (
        Rate.parse(settings.PUBLIC_RATE).count / Rate.parse(settings.PUBLIC_RATE).seconds >= 1
    )  # a page a second
    assert Rate.parse(settings.PUBLIC_CSV_RATE).count >= 10


# --- Methods, headers, ids, health ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/", "/jurisdictions/", "/feeds/changes/", "/api/v1/jurisdictions/", "/admin/"]
)
def test_trace_is_refused_everywhere(client, path):
    response = client.generic("TRACE", path)
    assert response.status_code == 405


@pytest.mark.django_db
def test_options_on_a_public_page_says_which_methods_it_answers(client):
    response = client.options("/jurisdictions/")
    assert (response.status_code, response["Allow"], response.content) == (204, "GET, HEAD, OPTIONS", b"")
    assert client.post("/jurisdictions/").status_code == 405
    api = client.options("/api/v1/jurisdictions/")  # DRF describes the resource
    assert api.status_code == 200 and api.json()["name"]


def test_healthz_answers_get_and_head(client):
    assert client.get("/healthz").status_code == 200
    head = client.head("/healthz")
    assert (head.status_code, head.content) == (200, b"")


@pytest.mark.django_db
def test_ids_accept_ascii_digits_only(client, committed):
    with committed():
        enrollment = EnrollmentFactory(pk=12)
    assert client.get(f"/api/v1/enrollments/{enrollment.pk}/").status_code == 200
    assert client.get("/api/v1/enrollments/\uff11\uff12/").status_code == 404
    assert client.get("/api/v1/certifications/\u0661\u0662/").status_code == 404  # Arabic-Indic digits


SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options")


@pytest.mark.django_db
def test_static_files_and_every_error_page_carry_the_security_headers(client, settings):
    settings.PUBLIC_RATE = "3/minute"
    responses = {
        "static": client.get("/static/css/site.css"),
        "404": client.get("/jurisdictions/nowhere-xx/"),
        "400 host": client.get("/", HTTP_HOST="evil.example"),
        "400 port": client.get("/", HTTP_HOST="testserver:31337"),
        "405": client.generic("TRACE", "/"),
    }
    for _ in range(3):
        client.get("/")
    responses["429"] = client.get("/")
    assert {name: r.status_code for name, r in responses.items()} == {
        "static": 200,
        "404": 404,
        "400 host": 400,
        "400 port": 400,
        "405": 405,
        "429": 429,
    }
    for name, response in responses.items():
        for header in SECURITY_HEADERS:
            assert response.has_header(header), (name, header)
        assert "default-src 'self'" in response["Content-Security-Policy"], name
        assert response["X-Frame-Options"] == "DENY", name


# --- Login lockout -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_attempts_during_a_lockout_do_not_extend_it(client, django_user_model):
    django_user_model.objects.create_user("editor", password="a-long-test-password", is_staff=True)
    login = "/admin/login/?next=/admin/"
    start = datetime.datetime.now(tz=datetime.UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            client.post(login, {"username": "editor", "password": "wrong-guess-123"})
    with time_machine.travel(start + datetime.timedelta(minutes=10), tick=False):
        assert client.post(login, {"username": "editor", "password": "wrong-again-456"}).status_code == 429
    # 15 minutes after the failure that locked it, not after the last attempt.
    with time_machine.travel(start + datetime.timedelta(minutes=16), tick=False):
        after = client.post(login, {"username": "editor", "password": "a-long-test-password"})
        assert (after.status_code, after.headers.get("Location")) == (302, "/admin/")
