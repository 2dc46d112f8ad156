"""The OpenAPI schema (/api/v1/schema/) and the interactive docs (/api/v1/docs/).

The schema must generate without warnings, describe every field and parameter, and match what the
API really returns; the docs page must load everything from our own origin.
"""

import datetime
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from rest_framework.test import APIClient

from jurisdictions.models import Enrollment
from tests.factories import EnrollmentFactory, JurisdictionFactory, StatusChangeFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"
SECURITY = [{"tokenAuth": []}, {"cookieAuth": []}]


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def schema(client):
    response = client.get(f"{API}/schema/?format=json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def data(psp):
    memphis = EnrollmentFactory(
        status="participating",
        jurisdiction=JurisdictionFactory(
            name="Memphis",
            state="TN",
            geoid="4748000",
            ocd_id="ocd-division/country:us/state:tn/place:memphis",
        ),
        site_type="operations",
        joined_on=datetime.date(2017, 6, 20),
        source=psp.source,
    )
    stockton = EnrollmentFactory(
        status="letter_sent",
        jurisdiction=JurisdictionFactory(name="Stockton", state="CA"),
        letter_sent_on=datetime.date(2017, 8, 3),
        response_due_on=datetime.date(2017, 8, 18),
        answers={"hold_request": "not_applicable"},
    )
    JurisdictionFactory(name="Jackson", state="MS", kind="city")
    StatusChangeFactory(enrollment=memphis, effective_on=datetime.date(2017, 6, 20))
    StatusChangeFactory(enrollment=stockton, from_status="pending", source=psp.source)
    return {"memphis": memphis, "stockton": stockton}


def test_schema_generates_and_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    assert sorted(schema["paths"]) == [
        "/api/v1/certifications/{id}/",
        "/api/v1/enrollments/",
        "/api/v1/enrollments/{id}/",
        "/api/v1/jurisdictions/",
        "/api/v1/jurisdictions/{slug}/",
        "/api/v1/programs/",
        "/api/v1/programs/{slug}/",
        "/api/v1/status-changes/",
        # Issue 17: a partner's own webhook subscriptions (alerts/api.py), token required.
        "/api/v1/webhooks/",
        "/api/v1/webhooks/{id}/",
        "/api/v1/webhooks/{id}/deliveries/",
        "/api/v1/webhooks/{id}/replay/",
        "/api/v1/webhooks/{id}/rotate-secret/",
    ]


def test_reading_needs_no_token_and_the_only_writes_are_the_staff_ones(schema):
    writes = {}
    for path, operations in schema["paths"].items():
        if path.startswith("/api/v1/webhooks/"):
            continue  # a partner's own subscriptions: the next test
        if "get" in operations:
            assert operations["get"]["security"] == [], path  # public: no padlock
        for method, operation in operations.items():
            if method != "get":
                writes.setdefault(path, []).append(method)
                assert operation["security"] == SECURITY, (method, path)
    assert writes == {
        "/api/v1/certifications/{id}/": ["patch"],
        "/api/v1/enrollments/": ["post"],
        "/api/v1/enrollments/{id}/": ["patch"],
        "/api/v1/jurisdictions/": ["post"],
    }


def test_the_padlock_shows_exactly_where_a_token_is_needed(schema, client):
    """Issue 19: the docs put a padlock on an operation whose `security` lists a requirement. The
    public reads list none; every write, and every operation of a partner's own webhooks (reads
    included: they need the token, tests/test_alerts_api.py), lists the token and the session."""
    security = {
        (method, path): operation["security"]
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }
    public = {key for key, value in security.items() if value == []}
    assert public == {
        ("get", "/api/v1/certifications/{id}/"),
        ("get", "/api/v1/enrollments/{id}/"),
        ("get", "/api/v1/jurisdictions/"),
        ("get", "/api/v1/jurisdictions/{slug}/"),
        ("get", "/api/v1/programs/"),
        ("get", "/api/v1/programs/{slug}/"),
        ("get", "/api/v1/status-changes/"),
    }
    assert all(value == SECURITY for key, value in security.items() if key not in public)
    assert security[("get", "/api/v1/webhooks/")] == SECURITY
    # What the schema says is what the API does: a public read answers without a token, a
    # padlocked one refuses.
    assert client.get(f"{API}/programs/").status_code == 200
    assert client.get(f"{API}/webhooks/").status_code == 401


def test_every_parameter_and_field_has_a_description(schema):
    missing = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if not parameter.get("description"):
                    missing.append(f"{method} {path} parameter {parameter['name']}")
            for code, response in operation["responses"].items():
                if not response.get("description"):
                    missing.append(f"{method} {path} response {code}")
    for name, component in schema["components"]["schemas"].items():
        for field, spec in component.get("properties", {}).items():
            if not spec.get("description"):
                missing.append(f"{name}.{field}")
    assert missing == []


def test_the_filter_parameters_and_csv_format_are_documented(schema):
    operation = schema["paths"]["/api/v1/jurisdictions/"]["get"]
    names = sorted(p["name"] for p in operation["parameters"] if p["in"] == "query")
    assert names == [
        "answer",
        "as_of",  # issue 14
        "cursor",
        "format",
        "geoid",
        "kind",
        "ocd_id",
        "ordering",
        "page",
        "page_size",
        "program",
        "search",
        "state",
        "status",
        "updated_since",
    ]
    status = next(p for p in operation["parameters"] if p["name"] == "status")
    assert status["schema"]["items"]["enum"] == ["letter_sent", "participating", "pending"]
    assert status["explode"] is True
    assert sorted(operation["responses"]["200"]["content"]) == [
        "application/geo+json",
        "application/json",
        "text/csv",
    ]
    assert sorted(operation["responses"]["400"]["content"]) == ["application/problem+json"]
    feed = schema["paths"]["/api/v1/status-changes/"]["get"]
    assert sorted(p["name"] for p in feed["parameters"] if p["in"] == "query") == [
        "cursor",
        "jurisdiction",
        "page",
        "page_size",
        "program",
        "since",
    ]
    retry_after = operation["responses"]["429"]["headers"]["Retry-After"]
    assert retry_after["schema"] == {"type": "integer"}


# --- The schema matches the responses ----------------------------------------------------------


def as_json_schema(node):
    """OpenAPI 3.0 schema objects to JSON Schema: `nullable: true` becomes a null alternative."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def validate(schema, body, response_schema):
    root = {**as_json_schema(response_schema), "components": as_json_schema(schema["components"])}
    jsonschema.Draft202012Validator(root).validate(body)


def response_schema(schema, path, code, media_type="application/json"):
    return schema["paths"][path]["get"]["responses"][str(code)]["content"][media_type]["schema"]


@pytest.mark.parametrize(
    ("template", "url"),
    [
        ("/api/v1/jurisdictions/", "/api/v1/jurisdictions/"),
        ("/api/v1/jurisdictions/", "/api/v1/jurisdictions/?page_size=1&page=2"),
        ("/api/v1/jurisdictions/{slug}/", "/api/v1/jurisdictions/memphis-tn/"),
        ("/api/v1/jurisdictions/{slug}/", "/api/v1/jurisdictions/jackson-ms/"),
        ("/api/v1/programs/", "/api/v1/programs/"),
        ("/api/v1/programs/{slug}/", "/api/v1/programs/psp/"),
        ("/api/v1/status-changes/", "/api/v1/status-changes/"),
        ("/api/v1/enrollments/{id}/", "/api/v1/enrollments/{memphis}/"),
        ("/api/v1/certifications/{id}/", "/api/v1/certifications/{stockton_hold}/"),
    ],
)
def test_responses_conform_to_the_schema(client, schema, data, template, url):
    hold = data["stockton"].certifications.get(requirement__code="hold_request")
    url = url.format(memphis=data["memphis"].pk, stockton_hold=hold.pk)
    response = client.get(url)
    assert response.status_code == 200
    validate(schema, response.json(), response_schema(schema, template, 200))


def test_the_response_schema_lists_exactly_the_fields_returned(client, schema, data):
    components = schema["components"]["schemas"]
    body = client.get(f"{API}/jurisdictions/memphis-tn/").json()
    assert list(body) == list(components["Jurisdiction"]["properties"])
    assert list(body["enrollments"][0]) == list(components["Enrollment"]["properties"])
    assert list(body["enrollments"][0]["certifications"][0]) == list(
        components["Certification"]["properties"]
    )
    program = client.get(f"{API}/programs/psp/").json()
    assert list(program) == list(components["Program"]["properties"])
    assert list(program["status_counts"]) == list(components["StatusCounts"]["properties"])
    assert list(program["status_counts"]) == Enrollment.Status.values


@pytest.mark.parametrize(
    ("template", "url", "code"),
    [
        ("/api/v1/jurisdictions/", "/api/v1/jurisdictions/?status=bogus", 400),
        ("/api/v1/jurisdictions/", "/api/v1/jurisdictions/?page=7", 404),
        ("/api/v1/jurisdictions/{slug}/", "/api/v1/jurisdictions/nowhere-xx/", 404),
        ("/api/v1/status-changes/", "/api/v1/status-changes/?since=never", 400),
        ("/api/v1/programs/{slug}/", "/api/v1/programs/psp/?x=1", 400),
    ],
)
def test_error_responses_conform_to_the_schema(client, schema, data, template, url, code):
    response = client.get(url)
    assert response.status_code == code
    assert response["Content-Type"] == "application/problem+json"
    validate(schema, response.json(), response_schema(schema, template, code, "application/problem+json"))


# --- Interactive docs ----------------------------------------------------------------------------


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []
        self.inline_scripts = 0
        self.styles = 0
        self.style_attributes = 0
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "style" in attrs:
            self.style_attributes += 1
        if tag == "style":
            self.styles += 1
        if tag == "script":
            if attrs.get("src"):
                self.urls.append(attrs["src"])
            else:
                self._in_script = True
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])
        if tag in ("img", "iframe") and attrs.get("src"):
            self.urls.append(attrs["src"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts += 1


def test_docs_page_loads_only_local_assets_and_no_inline_code(client, settings):
    response = client.get(f"{API}/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = _Assets()
    assets.feed(html)
    assert (assets.inline_scripts, assets.styles, assets.style_attributes) == (0, 0, 0)
    assert "//" not in "".join(u for u in assets.urls if not u.startswith("/"))
    static = [u for u in assets.urls if u.startswith(settings.STATIC_URL)]
    assert sorted(Path(u).name for u in static) == [
        "api_docs.css",
        "favicon-32x32.png",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "swagger-ui.css",
    ]
    for url in static:
        assert finders.find(url.removeprefix(settings.STATIC_URL)), url
    (script,) = [u for u in assets.urls if not u.startswith(settings.STATIC_URL)]
    assert script == "/api/v1/docs/?script="
    start_up = client.get(script)
    assert start_up.status_code == 200
    assert start_up["Content-Type"].startswith("application/javascript")
    assert '"/api/v1/schema/"' in start_up.content.decode()
    assert not re.search(r"https?://", start_up.content.decode())


def _browser_or_skip():
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        message = "Debian's Chromium is not installed (sudo apt-get install chromium)"
        if os.environ.get("PSP_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    return chromium


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_docs_render_in_a_browser_without_any_outside_request(live_server, monkeypatch):
    chromium = _browser_or_skip()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the live server answers from its own.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    requested, failed, console_errors = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{live_server.url}/api/v1/docs/")
            page.wait_for_selector(".swagger-ui .info .title", timeout=15000)
            title = page.inner_text(".swagger-ui .info .title")
            page.wait_for_selector("text=/api/v1/jurisdictions/", timeout=15000)
        finally:
            browser.close()
    assert title.startswith("PSP Tracker API")
    outside = [
        url for url in requested if not url.startswith(live_server.url) and not url.startswith("data:")
    ]
    assert outside == []
    assert f"{live_server.url}/api/v1/schema/" in requested
    assert failed == []
    assert console_errors == []
