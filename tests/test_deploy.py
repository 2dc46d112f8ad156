"""The docker-compose deployment, checked without Docker.

The compose file is parsed and its services, healthchecks and commands checked against the Dockerfile
and the documentation; then the very start command the web container runs (docker/entrypoint.sh:
migrate, collectstatic, gunicorn with the production settings) is run here against the local
PostgreSQL and Redis, and the site is fetched over HTTP as the healthcheck and a browser would.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
START_COMMAND = ["sh", "docker/entrypoint.sh"]
HEALTHCHECK = ["CMD", "python", "docker/healthcheck.py"]
PG = {"host": "127.0.0.1", "port": 5432, "user": "root"}
PORTS = range(8301, 8310)  # this test's ports
SECRET = "deploy-test-" + uuid.uuid4().hex + uuid.uuid4().hex


def test_compose_runs_the_database_redis_and_the_web_app():
    services = COMPOSE["services"]
    assert sorted(services) == ["db", "redis", "redis-counters", "web", "worker"]
    assert services["db"]["image"] == "postgres:16"
    assert services["db"]["volumes"] == ["pgdata:/var/lib/postgresql/data"]
    assert "pgdata" in COMPOSE["volumes"]
    assert services["redis"]["image"].startswith("redis:")
    assert services["redis-counters"]["image"].startswith("redis:")
    assert services["web"]["build"] == "."
    assert services["web"]["ports"] == ["8000:8000"]


def test_every_service_has_a_healthcheck_and_web_waits_for_the_healthy_database():
    services = COMPOSE["services"]
    assert services["db"]["healthcheck"]["test"] == ["CMD-SHELL", "pg_isready -U psp -d psp"]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert services["redis-counters"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert services["web"]["healthcheck"]["test"] == HEALTHCHECK
    assert services["web"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "redis-counters": {"condition": "service_healthy"},
    }


def test_rate_limit_counters_live_in_a_redis_that_evicts_nothing():
    """A full response cache must not evict counters: a server of their own with noeviction."""
    command = COMPOSE["services"]["redis-counters"]["command"]
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert COMPOSE["services"]["web"]["environment"]["REDIS_COUNTERS_URL"] == "redis://redis-counters:6379/0"


def test_web_gets_its_database_and_shared_cache_from_compose():
    environment = COMPOSE["services"]["web"]["environment"]
    assert environment["DATABASE_URL"] == "postgres://psp:${POSTGRES_PASSWORD}@db:5432/psp"
    assert environment["REDIS_URL"] == "redis://redis:6379/0"
    assert "POSTGRES_PASSWORD=" in (ROOT / ".env.example").read_text()


def test_compose_runs_the_task_worker_on_the_same_image_and_database_as_web():
    """Issue 17: the queue's worker (django-tasks-db, through run_worker) as a service of its own."""
    web, worker = COMPOSE["services"]["web"], COMPOSE["services"]["worker"]
    assert (worker["build"], worker["image"]) == (web["build"], web["image"])
    assert worker["command"] == ["python", "manage.py", "run_worker", "--no-reload"]
    assert worker["environment"]["DATABASE_URL"] == web["environment"]["DATABASE_URL"]
    assert worker["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "web": {"condition": "service_healthy"},  # web applies the migrations
    }
    assert worker["restart"] == "unless-stopped"
    assert "run_worker" in (ROOT / "Makefile").read_text()


def test_compose_the_dockerfile_and_the_docs_name_the_same_start_command():
    assert COMPOSE["services"]["web"]["command"] == START_COMMAND
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["sh", "docker/entrypoint.sh"]' in dockerfile
    assert 'CMD ["python", "docker/healthcheck.py"]' in dockerfile
    entrypoint = (ROOT / "docker/entrypoint.sh").read_text()
    for step in (
        "manage.py migrate --no-input",
        "manage.py collectstatic --no-input",
        "exec gunicorn psp_tracker.wsgi",
    ):
        assert step in entrypoint
    for doc in ("README.md", "docs/deploy.md"):
        text = (ROOT / doc).read_text()
        assert "docker compose up" in text, doc
        assert "docker/entrypoint.sh" in text, doc
        assert "createsuperuser" in text, doc
        assert "pg_dump" in text, doc


def test_the_image_runs_as_a_non_root_user():
    users = re.findall(r"^USER\s+(\S+)", (ROOT / "Dockerfile").read_text(), flags=re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}


# --- The start command, run for real ---------------------------------------------------------------


def _free_port():
    for port in PORTS:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    pytest.fail(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def _psql(sql):
    import psycopg2

    connection = psycopg2.connect(dbname="postgres", **PG)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


# The shared Redis of the machine; the database number is configurable so that parallel runs do not
# meet (PSP_TEST_REDIS_DB).
REDIS_URL = f"redis://127.0.0.1:6379/{os.environ.get('PSP_TEST_REDIS_DB', '0')}"


def _redis_answers():
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _get(port, path, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": "127.0.0.1", **(headers or {})})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """docker/entrypoint.sh on a fresh PostgreSQL database, with the production settings."""
    try:
        _psql("SELECT 1")
    except Exception as exc:  # any connection error
        pytest.skip(f"PostgreSQL is not answering on 127.0.0.1:5432: {exc}")
    database = f"helper_prod_deploy_{os.getpid()}"
    _psql(f'DROP DATABASE IF EXISTS "{database}"')
    _psql(f'CREATE DATABASE "{database}"')
    port = _free_port()
    static_root = tmp_path_factory.mktemp("static")
    prefix = f"psp-deploy-{os.getpid()}"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "API_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        DATABASE_URL=f"postgres://root@127.0.0.1:5432/{database}",
        DJANGO_CACHE_PREFIX=prefix,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=SECRET,
        # The browser sends the port in its Host header: that exact pair must be listed.
        DJANGO_ALLOWED_HOSTS=f"127.0.0.1,localhost,127.0.0.1:{port}",
        # The browser test reaches gunicorn over plain HTTP, telling it (as a TLS proxy would) that
        # the request was HTTPS; its forms then come from this origin.
        DJANGO_CSRF_TRUSTED_ORIGINS=f"http://127.0.0.1:{port}",
        DJANGO_SECURE="1",
        DJANGO_BEHIND_PROXY="1",
        DJANGO_NUM_PROXIES="1",
        DJANGO_STATIC_ROOT=str(static_root),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        PORT=str(port),
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="2",
    )
    if _redis_answers():  # CI starts Redis; elsewhere the Redis checks are skipped with a message
        env["REDIS_URL"] = REDIS_URL
    log_path = static_root.parent / "gunicorn.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(START_COMMAND, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the start command exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                if _get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail(f"gunicorn did not answer within 90 s:\n{log_path.read_text()}")
        yield {"port": port, "env": env, "log": log_path, "static_root": static_root, "prefix": prefix}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        _psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(static_root, ignore_errors=True)


HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}


def test_the_container_healthcheck_command_passes(served):
    result = subprocess.run(
        [sys.executable, "docker/healthcheck.py"], cwd=ROOT, env=served["env"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    ready = subprocess.run(
        [sys.executable, "docker/healthcheck.py", "readyz"], cwd=ROOT, env=served["env"], capture_output=True
    )
    assert ready.returncode == 0


def test_healthz_and_readyz_answer_over_plain_http(served):
    status, _, body = _get(served["port"], "/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    status, _, body = _get(served["port"], "/readyz")
    expected = {"status": "ok", "database": "ok", **({"cache": "ok"} if "REDIS_URL" in served["env"] else {})}
    assert (status, json.loads(body)) == (200, expected)


def test_migrations_were_applied_and_pages_are_served_with_the_security_headers(served):
    status, headers, body = _get(served["port"], "/jurisdictions/", HTTPS)
    assert status == 200
    assert b"<h1" in body
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in headers["content-security-policy"]
    assert re.fullmatch(r"[0-9a-f]{32}", headers["x-request-id"])


def test_plain_http_is_redirected_to_https(served):
    status, headers, _ = _get(served["port"], "/jurisdictions/")
    assert (status, headers["location"]) == (301, "https://127.0.0.1/jurisdictions/")


def test_static_files_are_served_hashed_compressed_and_cached_for_a_year(served):
    _, _, page = _get(served["port"], "/admin/login/", HTTPS)
    css = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page)
    assert css, page[:500]
    status, headers, _ = _get(served["port"], css.group(1).decode(), {**HTTPS, "Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert "immutable" in headers["cache-control"]
    assert "max-age=315360000" in headers["cache-control"]


def test_api_throttle_counters_are_kept_in_redis_by_client_address(served):
    import redis

    if "REDIS_URL" not in served["env"]:
        pytest.skip("Redis is not answering on 127.0.0.1:6379 (.ci/run starts it)")
    status, _, _ = _get(served["port"], "/api/v1/programs/", HTTPS)
    assert status == 200
    # The counters' cache has its own prefix (and in compose its own Redis, REDIS_COUNTERS_URL).
    client = redis.Redis.from_url(REDIS_URL)
    keys = client.keys(f"{served['prefix']}-counters:*throttle_anon_198.51.100.7")
    assert len(keys) == 1
    client.delete(*keys)


def test_the_logs_are_json_lines_carrying_the_request_id(served):
    _get(served["port"], "/healthz", {"X-Request-ID": "deploy-check-1"})
    time.sleep(0.3)
    lines = [json.loads(line) for line in served["log"].read_text().splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("request_id") == "deploy-check-1"]
    assert [(line["path"], line["status"]) for line in mine] == [("/healthz", 200)]


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.browser
def test_the_admin_and_the_api_docs_work_under_the_content_security_policy(served):
    """The CSP allows only our own origin; the admin and Swagger UI must still run in a real browser."""
    if not Path(CHROMIUM).exists():
        message = "Chromium is missing (sudo apt-get install chromium)"
        if os.environ.get("PSP_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    password = uuid.uuid4().hex + "-Aa1"
    created = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "createsuperuser",
            "--no-input",
            "--username",
            "csp",
            "--email",
            "csp@example.org",
        ],
        cwd=ROOT,
        env={**served["env"], "DJANGO_SUPERUSER_PASSWORD": password},
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, created.stderr
    base = f"http://127.0.0.1:{served['port']}"
    problems = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox"]
        )
        try:
            context = browser.new_context(extra_http_headers={"X-Forwarded-Proto": "https"})
            page = context.new_page()
            page.on(
                "console",
                lambda m: (
                    problems.append(f"{m.location.get('url')}: {m.text}")
                    if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
                    else None
                ),
            )
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(f"{base}/admin/login/?next=/admin/")
            page.fill("#id_username", "csp")
            page.fill("#id_password", password)
            page.click("input[type=submit]")
            page.wait_for_load_state("networkidle")
            assert page.url == f"{base}/admin/"
            for path in ("/admin/jurisdictions/jurisdiction/", "/admin/jurisdictions/jurisdiction/add/"):
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                assert page.locator("#content h1").count() == 1, path
            page.goto(f"{base}/api/v1/docs/")
            page.wait_for_selector(".opblock", timeout=20000)
            assert page.locator(".opblock").count() >= 5
        finally:
            browser.close()
    assert problems == []
