"""Production hardening: check --deploy, security headers, CSP, login lockout, password strength,
client address behind proxies, and error pages that never show a detail of the error."""

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, SuspiciousOperation, ValidationError
from django.db import OperationalError
from django.http import Http404, HttpResponse
from django.test import RequestFactory, override_settings
from django.urls import path
from rest_framework.throttling import AnonRateThrottle

from psp_tracker import errors
from psp_tracker import urls as site_urls
from psp_tracker.middleware import client_ip
from psp_tracker.urls import handler400, handler403, handler404, handler500  # noqa: F401 (used by Django)
from tests.problems import PROBLEM_KEYS

ROOT = Path(__file__).resolve().parent.parent
LONG_SECRET = "k3y-" + "".join(chr(ord("a") + (i * 7) % 26) + str(i % 10) for i in range(40))
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": LONG_SECRET,
    "DJANGO_ALLOWED_HOSTS": "psp.example.org,testserver",
    "DJANGO_SECURE": "1",
    "DJANGO_LOG_LEVEL": "WARNING",
}
# django-csp writes the directives in no fixed order, so they are compared as a set.
EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def directives(policy):
    return set(policy.split("; "))


def production_env(**extra):
    """This environment without our variables, plus the production ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "API_", "REDIS_URL"))}
    env.pop("DATABASE_URL", None)
    env.update(PRODUCTION, DJANGO_SETTINGS_MODULE="psp_tracker.settings", **extra)
    return env


def fetch_in_production(url, *, secure, **env):
    """GET `url` with Django's test client in a fresh interpreter running the production settings."""
    code = (
        "import django, json, sys; django.setup(); from django.test import Client; "
        f"r = Client().get({url!r}, secure={secure!r}); "
        "print(json.dumps({'status': r.status_code, 'headers': dict(r.headers)}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=production_env(**env), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_pass_check_deploy_with_no_warning():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_responses_carry_hsts_and_the_other_security_headers():
    response = fetch_in_production("/healthz", secure=True)
    headers = response["headers"]
    assert response["status"] == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert directives(headers["Content-Security-Policy"]) == directives(EXPECTED_CSP)


def test_production_redirects_plain_http_to_https_except_the_health_checks():
    page = fetch_in_production("/jurisdictions/", secure=False)
    assert (page["status"], page["headers"]["Location"]) == (301, "https://testserver/jurisdictions/")
    assert fetch_in_production("/healthz", secure=False)["status"] == 200


def test_behind_a_proxy_the_forwarded_scheme_counts_as_https():
    code = (
        "import django, json; django.setup(); from django.test import Client; "
        "r = Client().get('/healthz', headers={'X-Forwarded-Proto': 'https'}); "
        "print(json.dumps(dict(r.headers)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=production_env(DJANGO_BEHIND_PROXY="1"),
        capture_output=True,
        text=True,
    )
    assert "Strict-Transport-Security" in json.loads(result.stdout.strip().splitlines()[-1])


def test_without_django_secure_there_is_no_hsts_but_every_other_header(client):
    response = client.get("/healthz")
    assert "Strict-Transport-Security" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert directives(response.headers["Content-Security-Policy"]) == directives(EXPECTED_CSP)


def test_the_csp_allows_only_our_own_origin(client):
    policy = client.get("/healthz").headers["Content-Security-Policy"]
    for directive in policy.split("; "):
        name, *sources = directive.split(" ")
        allowed = {"'self'", "'none'"} | ({"data:"} if name == "img-src" else set())
        assert set(sources) <= allowed, directive
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


# --- Login lockout (django-axes) and password strength -------------------------------------------


@pytest.mark.django_db
def test_the_admin_login_locks_out_after_five_failures_and_the_lockout_expires(client, django_user_model):
    django_user_model.objects.create_user("editor", password="a-long-test-password", is_staff=True)
    login = "/admin/login/?next=/admin/"
    for _ in range(4):
        assert client.post(login, {"username": "editor", "password": "wrong-guess-123"}).status_code == 200
    assert client.post(login, {"username": "editor", "password": "wrong-guess-123"}).status_code == 429
    locked = client.post(login, {"username": "editor", "password": "a-long-test-password"})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(minutes=16)):
        after = client.post(login, {"username": "editor", "password": "a-long-test-password"})
        assert (after.status_code, after.headers["Location"]) == (302, "/admin/")


@pytest.mark.django_db
def test_a_lockout_is_for_the_guessed_user_name_only(client, django_user_model):
    django_user_model.objects.create_user("other", password="another-long-password", is_staff=True)
    for _ in range(5):
        client.post("/admin/login/", {"username": "editor", "password": "wrong-guess-123"})
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "other", "password": "another-long-password"}
    )
    assert response.status_code == 302


def test_axes_checks_every_login_first():
    from django.conf import settings

    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "refused"),
    [
        ("short-pw", True),
        ("123456789012345", True),
        ("password1234", True),
        ("brisk-otter-lantern-42", False),
    ],
)
def test_passwords_must_be_long_and_uncommon(password, refused):
    if refused:
        with pytest.raises(ValidationError):
            validate_password(password)
    else:
        validate_password(password)


# --- The client address behind proxies ------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.2"),  # no proxy trusted: the header is the client's word only
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # one proxy: the address it added
        (2, "198.51.100.1, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
        (1, "", "10.0.0.2"),
        (1, "not-an-address", "10.0.0.2"),
    ],
)
def test_the_client_address_is_read_behind_the_configured_number_of_proxies(proxies, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(NUM_PROXIES=proxies):
        assert client_ip(request) == expected


def test_the_api_throttles_use_the_same_client_address():
    from django.conf import settings

    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9"
    )
    rest = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    with override_settings(NUM_PROXIES=1, REST_FRAMEWORK=rest):
        assert AnonRateThrottle().get_ident(request) == client_ip(request) == "203.0.113.9"


def test_the_number_of_proxies_comes_from_the_environment():
    code = "import django; django.setup(); from django.conf import settings; print(settings.REST_FRAMEWORK['NUM_PROXIES'], settings.NUM_PROXIES)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=production_env(DJANGO_NUM_PROXIES="2"),
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "2 2"


def test_throttle_counters_go_to_redis_when_redis_url_is_set():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.CACHES['default']['BACKEND'], settings.CACHES['throttle']['BACKEND'])"
    )
    with_redis = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=production_env(REDIS_URL="redis://127.0.0.1:6379/0"),
        capture_output=True,
        text=True,
    )
    without = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=production_env(), capture_output=True, text=True
    )
    # Our Redis backend (short timeouts, falls back to memory when Redis fails), for both caches.
    resilient = "psp_tracker.cache_backends.ResilientRedisCache"
    assert with_redis.stdout.strip().splitlines()[-1] == f"{resilient} {resilient}"
    locmem = "django.core.cache.backends.locmem.LocMemCache"
    assert without.stdout.strip().splitlines()[-1] == f"{locmem} {locmem}"


def test_api_page_sizes_are_bounded():
    """Whatever pagination class the API uses, a client cannot ask for an unbounded page."""
    from django.conf import settings
    from django.utils.module_loading import import_string
    from rest_framework.request import Request

    paginator = import_string(settings.REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"])()
    asked = Request(RequestFactory().get("/api/v1/jurisdictions/", {"page_size": "100000000"}))
    default = Request(RequestFactory().get("/api/v1/jurisdictions/"))
    assert paginator.max_page_size <= 1000
    assert paginator.get_page_size(asked) == paginator.max_page_size
    assert paginator.get_page_size(default) == paginator.page_size <= paginator.max_page_size


# --- Error pages ---------------------------------------------------------------------------------


def _raise(exception):
    def view(request):
        raise exception

    return view


def _bad_data(request):
    # Mirrors a view reading a database that is gone: the error Django raises when it cannot connect.
    raise OperationalError("could not connect to server")


urlpatterns = [
    path("raise/400/", _raise(SuspiciousOperation("bad"))),
    path("raise/403/", _raise(PermissionDenied())),
    path("raise/404/", _raise(Http404())),
    path("raise/500/", _raise(RuntimeError("secret detail DJANGO_SECRET_KEY"))),
    path("raise/db/", _bad_data),
    path("api/raise/500/", _raise(RuntimeError("secret detail"))),
    path("api/raise/db/", _bad_data),
    path("ok/", lambda request: HttpResponse("ok")),
    # The site's own patterns, not include(): they hold i18n_patterns (the /es/ pages), which only
    # a root URLconf may.
    *site_urls.urlpatterns,
]


@pytest.fixture
def error_client(db, client, settings):
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize(
    ("url", "status", "heading"),
    [
        ("/raise/400/", 400, "<h1>Bad request</h1>"),
        ("/raise/403/", 403, "<h1>Access denied</h1>"),
        ("/raise/404/", 404, "<h1>Page not found</h1>"),
        ("/no/such/page/", 404, "<h1>Page not found</h1>"),
        ("/raise/500/", 500, "<h1>Server error</h1>"),
        ("/raise/db/", 503, "<h1>Service unavailable</h1>"),
    ],
)
def test_error_pages_use_our_templates_and_show_no_detail(error_client, url, status, heading):
    response = error_client.get(url, headers={"Accept": "text/html"})
    body = response.content.decode()
    assert response.status_code == status
    assert heading in body
    assert "<title>" in body  # the site's base layout
    for leak in ("Traceback", "secret detail", "DJANGO_SECRET_KEY", "could not connect"):
        assert leak not in body


@pytest.mark.parametrize(
    ("url", "status", "keys"),
    [
        ("/api/raise/500/", 500, PROBLEM_KEYS),
        ("/api/raise/db/", 503, PROBLEM_KEYS),
        ("/api/no/such/endpoint/", 404, PROBLEM_KEYS),
    ],
)
def test_api_errors_are_short_json(error_client, url, status, keys):
    response = error_client.get(url)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    assert sorted(response.json()) == keys
    assert "secret" not in response.content.decode()


def test_a_database_error_outside_a_view_is_a_503_too():
    request = RequestFactory().get("/jurisdictions/", HTTP_ACCEPT="text/html")
    try:
        raise OperationalError("the server closed the connection")
    except OperationalError:
        response = errors.server_error(request)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert b"<h1>Service unavailable</h1>" in response.content
