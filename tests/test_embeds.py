"""Embeds (issue 19): the status cards any site may frame, their headers, cookies, citations and
cost, and the "copy embed code" snippet on the detail and program pages."""

import datetime
import html as htmllib
import re

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse

from jurisdictions.models import Certification, StatusChange
from tests.factories import (
    EnrollmentFactory,
    JurisdictionFactory,
    ProgramFactory,
    RequirementFactory,
    SourceFactory,
    seed_psp_2017,
)

pytestmark = pytest.mark.django_db

MEMPHIS = "/embed/jurisdictions/memphis-tn/"
PSP = "/embed/programs/psp/"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Stands for a commit (as in tests/test_cache.py): the data version moves on, and responses
    are cached again."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def seed(committed):
    with committed():
        return seed_psp_2017()


def directives(policy):
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] if " " in d else "" for d in policy.split("; ")}


def test_the_embed_addresses_are_named_urls():
    assert reverse("jurisdictions:jurisdiction-embed", args=["memphis-tn"]) == MEMPHIS
    assert reverse("jurisdictions:program-embed", args=["psp"]) == PSP


# -- framing headers -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [MEMPHIS, PSP, "/embed/jurisdictions/atlantis-zz/", "/embed/programs/nope/"])
def test_any_site_may_frame_an_embed(client, seed, path):
    response = client.get(path)
    assert "X-Frame-Options" not in response.headers
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == "*"
    # The rest of the policy is the site's: own origin only, no inline script.
    assert policy["script-src"] == "'self'"
    assert policy["default-src"] == "'self'"


def test_a_cached_embed_and_its_304_still_may_be_framed(client, seed):
    first = client.get(MEMPHIS)
    again = client.get(MEMPHIS)
    assert (first.headers["X-Cache"], again.headers["X-Cache"]) == ("miss", "hit")
    not_modified = client.get(MEMPHIS, headers={"If-None-Match": first.headers["ETag"]})
    assert not_modified.status_code == 304
    for response in (again, not_modified):
        assert "X-Frame-Options" not in response.headers
        assert directives(response.headers["Content-Security-Policy"])["frame-ancestors"] == "*"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/programs/psp/",
        "/jurisdictions/",
        "/jurisdictions/memphis-tn/",
        "/jurisdictions/atlantis-zz/",
        "/methodology/",
        "/healthz",
        "/api/v1/jurisdictions/",
    ],
)
def test_every_other_page_still_refuses_to_be_framed(client, seed, path):
    for response in (client.get(path), client.get(path)):  # fresh, then from the cache
        assert response.headers["X-Frame-Options"] == "DENY"
        assert directives(response.headers["Content-Security-Policy"])["frame-ancestors"] == "'none'"


@pytest.mark.parametrize("path", [MEMPHIS, PSP, "/embed/jurisdictions/atlantis-zz/"])
def test_an_embed_sets_no_cookie(client, seed, path):
    client.cookies.clear()
    response = client.get(path)
    assert "Set-Cookie" not in response.headers
    assert not response.cookies
    assert "<script" not in response.content.decode()
    assert "<form" not in response.content.decode()


def test_an_embed_is_conditional_and_changes_with_the_data(client, seed, committed):
    first = client.get(MEMPHIS)
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    memphis = seed["memphis-tn"]
    with committed():
        memphis.jurisdiction.name = "Memphis City"
        memphis.jurisdiction.save()
    # Any write moves the data version on: the old ETag no longer matches.
    changed = client.get(MEMPHIS, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert "Memphis City, Tennessee" in changed.content.decode()
    assert changed.headers["ETag"] != first.headers["ETag"]


# -- the jurisdiction card -------------------------------------------------------------------------


def test_the_jurisdiction_card_shows_status_dates_answers_and_their_documents(client, seed):
    response = client.get(MEMPHIS)
    assert response.status_code == 200
    assert [t.name for t in response.templates][:2] == ["embeds/jurisdiction_card.html", "embeds/base.html"]
    html = response.content.decode()
    assert "Memphis, Tennessee</a></h1>" in html
    assert '<h2 class="card__program-name">Public Safety Partnership</h2>' in html
    assert '<span class="status status--participating">Participating</span>' in html
    # The day the status took effect (the source's date) and the day it was recorded, apart.
    recorded = StatusChange.objects.get(enrollment=seed["memphis-tn"]).changed_at.date()
    assert '<dt>In effect since</dt><dd><time datetime="2017-06-20">20 June 2017</time></dd>' in html
    assert f'<dt>Recorded in the tracker</dt><dd><time datetime="{recorded:%Y-%m-%d}">' in html
    # The three requirement answers, each with its document, and the status's document.
    assert html.count('<span class="answer answer--yes">Yes</span>') == 3
    assert html.count("<cite>Sessions Takes Action Against Sanctuary Cities</cite>, Breitbart") == 1
    # The seed's answers cite no document of their own: said so on each, as on the detail page.
    assert html.count('Source: <span class="card__muted">No source recorded</span></span>') == 3
    # Links open the full pages outside the frame.
    assert '<a href="/jurisdictions/memphis-tn/" target="_blank" rel="noopener">' in html
    for link in re.findall(r"<a [^>]*>", html):
        assert 'target="_blank" rel="noopener"' in link, link
    assert '<link rel="stylesheet" href="/static/css/embed.css">' in html
    assert "site.css" not in html  # its own small page, not the site's chrome


def test_a_certified_answer_names_its_basis_and_linked_document(client, db):
    source = SourceFactory(title="Council resolution 17-1", url="https://example.org/res-17-1")
    enrollment = EnrollmentFactory(
        jurisdiction=JurisdictionFactory(name="Dayton", state="OH"),
        status="pending",
        answers={"facility_access": "yes"},
    )
    Certification.objects.filter(enrollment=enrollment, requirement__code="facility_access").update(
        basis="certified", source=source
    )
    html = client.get("/embed/jurisdictions/dayton-oh/").content.decode()
    assert '<span class="card__basis">certified</span>' in html
    assert (
        '<a href="https://example.org/res-17-1" target="_blank" rel="noopener">Council resolution 17-1</a>'
        in html
    )
    assert f'<a href="/sources/{source.pk}/" target="_blank" rel="noopener">about this document</a>' in html
    assert html.count('<span class="answer answer--unknown">Unknown</span>') == 2
    assert '<span class="status status--pending">Pending</span>' in html


def test_a_jurisdiction_in_no_program_says_so(client, db):
    JurisdictionFactory(name="Atlantis", state="FL")
    html = client.get("/embed/jurisdictions/atlantis-fl/").content.decode()
    assert "Not enrolled in any program." in html


@time_machine.travel(datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.UTC))
def test_as_of_shows_the_card_as_it_stood_that_day(client, seed):
    stockton = seed["stockton-ca"]
    StatusChange.objects.filter(enrollment=stockton).update(
        changed_at=datetime.datetime(2017, 8, 4, 12, tzinfo=datetime.UTC)
    )
    html = client.get("/embed/jurisdictions/stockton-ca/?as_of=2017-07-01").content.decode()
    assert '<time datetime="2017-07-01">1 July 2017</time>' in html
    assert "Not enrolled in any program on that day." in html
    html = client.get("/embed/jurisdictions/stockton-ca/?as_of=2017-09-01").content.decode()
    assert '<span class="status status--letter_sent">Letter sent</span>' in html
    assert '<a href="/jurisdictions/stockton-ca/?as_of=2017-09-01" target="_blank"' in html


@pytest.mark.parametrize(
    ("query", "named"), [("as_of=tomorrow", "as_of"), ("as_of=2999-01-01", "as_of"), ("utm=x", "utm")]
)
def test_a_bad_parameter_is_a_400_card_naming_it(client, seed, query, named):
    response = client.get(f"{MEMPHIS}?{query}")
    assert response.status_code == 400
    assert response.templates[0].name == "embeds/bad_request.html"
    assert f"<code>{named}</code>" in response.content.decode()
    assert "X-Frame-Options" not in response.headers


def test_an_unknown_jurisdiction_is_a_404_card(client, seed):
    response = client.get("/embed/jurisdictions/atlantis-zz/")
    assert response.status_code == 404
    assert [t.name for t in response.templates][:2] == ["embeds/not_found.html", "embeds/base.html"]
    assert "No jurisdiction has the identifier “atlantis-zz”." in response.content.decode()


def test_the_card_costs_a_fixed_number_of_queries(client, db, django_assert_max_num_queries):
    jurisdiction = JurisdictionFactory(name="Dayton", state="OH")
    for n in range(3):
        program = ProgramFactory(slug=f"p{n}", name=f"Program {n}")
        RequirementFactory(program=program, code="a", order=1)
        RequirementFactory(program=program, code="b", order=2)
        EnrollmentFactory(jurisdiction=jurisdiction, program=program, answers={"a": "yes"})
    # version, jurisdiction, enrollments, answers, requirements, status changes: whatever the
    # number of programs and answers.
    with django_assert_max_num_queries(6):
        response = client.get("/embed/jurisdictions/dayton-oh/")
    assert response.content.decode().count('class="card__program"') == 3


# -- the program card ------------------------------------------------------------------------------


@time_machine.travel(datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.UTC))
def test_the_program_card_counts_each_status_today_with_its_source(client, seed):
    response = client.get(PSP)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Public Safety Partnership</a></h1>" in html
    assert 'Jurisdictions by status on <time datetime="2024-05-01">1 May 2024</time>' in html
    counts = re.findall(r'card__count">(\d+)</span> <span class="status status--(\w+)"', html)
    assert counts == [("12", "participating"), ("4", "letter_sent"), ("0", "pending")]
    assert '<p class="card__total">Enrolled in all: 16</p>' in html
    assert "Counted from the tracker's records; each status cites its own document" in html
    assert (
        '<a href="/jurisdictions/?program=psp&amp;status=participating" target="_blank" rel="noopener">'
        in html
    )
    assert '<a href="/programs/psp/" target="_blank" rel="noopener">' in html


def test_the_program_card_costs_a_fixed_number_of_queries(client, seed, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        assert client.get(PSP).status_code == 200


def test_an_unknown_program_is_a_404_card_and_parameters_are_refused(client, seed):
    response = client.get("/embed/programs/nope/")
    assert response.status_code == 404
    assert "No program has the identifier “nope”." in response.content.decode()
    refused = client.get(f"{PSP}?as_of=2017-01-01")
    assert refused.status_code == 400
    assert "Unknown parameter “as_of”; this card takes none." in refused.content.decode()


# -- the "copy embed code" snippet -------------------------------------------------------------------


def snippet(html):
    found = re.search(r'<textarea id="embed-code-text"[^>]*>(.*?)</textarea>', html, re.S)
    assert found, "no embed code on the page"
    return htmllib.unescape(found.group(1))


def test_the_detail_page_offers_the_embed_code_of_its_card(client, seed):
    code = snippet(client.get("/jurisdictions/memphis-tn/").content.decode())
    assert code.startswith('<iframe src="http://testserver/embed/jurisdictions/memphis-tn/" ')
    assert 'title="Memphis, Tennessee: status in federal partnership programs (PSP Tracker)"' in code
    assert 'loading="lazy"' in code and 'height="680"' in code and code.endswith("></iframe>")


def test_the_program_page_and_home_offer_the_program_card(client, seed):
    for path in ("/programs/psp/", "/"):
        code = snippet(client.get(path).content.decode())
        assert code.startswith('<iframe src="http://testserver/embed/programs/psp/" ')
        assert 'title="Public Safety Partnership: jurisdictions by status (PSP Tracker)"' in code


@override_settings(PUBLIC_BASE_URL="https://psp.example.org")
def test_the_embed_code_uses_the_public_origin(client, seed):
    code = snippet(client.get("/jurisdictions/memphis-tn/").content.decode())
    assert code.startswith('<iframe src="https://psp.example.org/embed/jurisdictions/memphis-tn/" ')


def test_the_embed_code_escapes_the_name_once_for_the_attribute(client, db):
    EnrollmentFactory(jurisdiction=JurisdictionFactory(name='Town "Q" & <Co>', state="OH", slug="town-q-oh"))
    html = client.get("/jurisdictions/town-q-oh/").content.decode()
    assert "<Co>" not in html.split('id="embed-code-text"')[1].split("</textarea>")[0]
    code = snippet(html)
    assert 'title="Town &quot;Q&quot; &amp; &lt;Co&gt;, Ohio: status' in code


def test_no_embed_code_on_a_refused_detail_page(client, seed):
    response = client.get("/jurisdictions/memphis-tn/?as_of=nope")
    assert response.status_code == 400
    assert "embed-code-text" not in response.content.decode()
