"""Issue 14: the seed cites the documents that contain its facts, and the record on any date."""

import datetime
import re

import pytest
from django.utils.html import escape

from jurisdictions import services
from jurisdictions.models import Certification, Enrollment, Requirement, Source
from tests.factories import StaffUserFactory
from tests.factories_citations import load_seed
from tests.problems import errors_of

pytestmark = pytest.mark.django_db

SEED_ARTICLE = "Sessions Takes Action Against Sanctuary Cities"
API = "/api/v1/jurisdictions/"


@pytest.fixture
def seeded(db):
    load_seed()


def test_the_seed_loads_twice_without_change(seeded, capsys):
    from django.core.management import call_command

    from tests.factories_citations import DATA

    call_command("import_jurisdictions", str(DATA / "psp_2017.csv"))
    assert "0 new, 0 changed, 16 unchanged" in capsys.readouterr().out


@pytest.mark.parametrize(("as_of", "count"), [("2017-06-01", 0), ("2017-07-01", 12), ("2017-09-01", 16)])
def test_the_api_counts_the_jurisdictions_enrolled_on_a_day(client, seeded, as_of, count):
    response = client.get(API, {"as_of": as_of})
    assert response.status_code == 200
    assert response.json()["count"] == count


def test_as_of_shows_the_twelve_participating_and_not_the_four_letters(client, seeded):
    body = client.get(API, {"as_of": "2017-07-01", "page_size": 50}).json()
    statuses = {j["slug"]: [e["status"] for e in j["enrollments"]] for j in body["results"]}
    assert set(map(tuple, statuses.values())) == {("participating",)}
    assert "baltimore-md" not in statuses
    assert client.get(API, {"as_of": "2017-07-01", "status": "letter_sent"}).json()["count"] == 0
    assert client.get(API, {"as_of": "2017-09-01", "status": "letter_sent"}).json()["count"] == 4


@pytest.mark.parametrize("path", [API, "/jurisdictions/"])
def test_a_list_as_of_a_day_orders_by_that_days_statuses_and_links_records_as_of_it(client, seeded, path):
    # Today Memphis is pending; on 2017-09-01 it was one of the twelve participating.
    memphis = Enrollment.objects.get(jurisdiction__slug="memphis-tn")
    services.enrollment_set_status(
        enrollment=memphis, status="pending", user=StaffUserFactory(groups=["Reviewer"]), via="admin"
    )
    if path == API:
        body = client.get(path, {"as_of": "2017-09-01", "ordering": "status", "page_size": 50}).json()
        slugs = [j["slug"] for j in body["results"]]
    else:
        html = client.get(path, {"as_of": "2017-09-01", "ordering": "status"}).content.decode()
        slugs = re.findall(r'scope="row"[^>]*><a href="/jurisdictions/([a-z-]+)/\?as_of=2017-09-01"', html)
    letters = {"baltimore-md", "albuquerque-nm", "san-bernardino-ca", "stockton-ca"}
    assert len(slugs) == 16
    assert "memphis-tn" in slugs[:12]
    assert set(slugs[12:]) == letters


def test_answers_count_from_the_date_of_their_document(client, seeded):
    # The answers of the 12 are reported by the Washington Times on 2017-08-03: not before.
    before = client.get(f"{API}memphis-tn/", {"as_of": "2017-08-02"}).json()["enrollments"][0]
    after = client.get(f"{API}memphis-tn/", {"as_of": "2017-08-03"}).json()["enrollments"][0]
    assert {c["answer"] for c in before["certifications"]} == {"unknown"}
    assert [(c["answer"], c["basis"]) for c in after["certifications"]] == [("yes", "reported")] * 3
    assert after["answers_summary"] == "3 of 3 reported as met (not certified by the city)"


@pytest.mark.parametrize("value", ["2017-13-01", "yesterday", "2017-7-1", "2999-01-01", "x" * 300])
@pytest.mark.parametrize(
    "path", [API, f"{API}memphis-tn/", "/jurisdictions/", "/jurisdictions/memphis-tn/", f"{API}?format=csv&"]
)
def test_a_bad_or_future_as_of_is_a_400_naming_as_of(client, seeded, path, value):
    joiner = "" if path.endswith("&") else "?"
    response = client.get(f"{path}{joiner}as_of={value}")
    assert response.status_code == 400
    if response["Content-Type"].startswith("application/problem+json"):
        assert list(errors_of(response)) == ["as_of"]
    else:
        assert "<code>as_of</code>" in response.content.decode()


def test_the_csv_as_of_a_day_has_that_days_rows_and_statuses(client, seeded):
    response = client.get("/jurisdictions/", {"format": "csv", "as_of": "2017-07-01"})
    text = b"".join(response.streaming_content).decode()
    lines = text.strip().splitlines()
    assert len(lines) == 13  # the header and the 12
    assert all(",participating," in line for line in lines[1:])


def test_the_pages_show_a_banner_for_a_past_day_only(client, seeded):
    past = client.get("/jurisdictions/memphis-tn/", {"as_of": "2017-07-01"}).content.decode()
    assert 'id="as-of-banner"' in past and "Record as of 1 July 2017" in past
    listed = client.get("/jurisdictions/", {"as_of": "2017-07-01"}).content.decode()
    assert "Record as of 1 July 2017" in listed and "12 jurisdictions" in listed
    assert 'id="as-of-banner"' not in client.get("/jurisdictions/memphis-tn/").content.decode()


def _main_text(html):
    main = html.split('<main id="main"')[1].split("</main>")[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


@pytest.mark.parametrize("slug", ["memphis-tn", "baltimore-md"])
def test_every_fact_names_a_document_with_publisher_and_date(client, seeded, slug):
    html = client.get(f"/jurisdictions/{slug}/").content.decode()
    text = _main_text(html)
    assert "No source recorded" not in text
    # The article dates nothing: it may back an answer (as a second document), never a date.
    facts, timeline = text.split(" Requirements ")[0], text.split("Timeline of status changes")[1]
    assert SEED_ARTICLE not in facts and SEED_ARTICLE not in timeline
    enrollment = Enrollment.objects.select_related("source", "site_type_source").get(jurisdiction__slug=slug)
    cited = [enrollment.source, *(c.source for c in enrollment.certifications.all())]
    if enrollment.site_type:
        cited.append(enrollment.site_type_source)
    for source in cited:
        assert source is not None and source.publisher
        assert source.published_on or source.date_text
        assert escape(source.title) in html
    if slug == "memphis-tn":
        assert "Attorney General Sessions Announces Creation of National Public Safety Partnership" in text
        assert "Bureau of Justice Assistance" in text  # the site type
        assert "3 of 3 reported as met (not certified by the city)" in text
        assert "The Washington Times, 3 August 2017" in text
        assert f"also {SEED_ARTICLE} , Breitbart, August 2017 (undated repost)" in text
    else:
        assert "Office of Justice Programs, 3 August 2017" in text  # letter and due date
        assert "no response recorded by 18 August 2017" in text
        assert "Reuters (Stabroek News reprint), 4 August 2017" in text
        assert "Not the city: the city does not control the local jail" in text
        assert "also Cities Baffled by DOJ's Strange New Threat" in text.replace("&#x27;", "'")


def test_the_seed_article_is_cited_for_no_date(seeded):
    article = Source.objects.filter(title=SEED_ARTICLE).first()
    if article is not None:
        assert not article.enrollments.exists()
        assert not article.status_changes.exists()
        assert not article.site_type_enrollments.exists()


def test_the_doj_release_has_no_guessed_address(seeded):
    release = Source.objects.get(title__startswith="Attorney General Sessions Announces")
    assert (release.url, release.kind, str(release.published_on)) == ("", "government_document", "2017-06-20")


def test_the_twelve_answers_are_reported_not_certified(seeded):
    answers = Certification.objects.filter(enrollment__status="participating")
    assert answers.count() == 36
    assert set(answers.values_list("answer", "basis", "certified_by")) == {("yes", "reported", "")}


def test_requirement_titles_keep_their_qualifiers_in_us_english(db):
    titles = dict(Requirement.objects.filter(program__slug="psp").values_list("code", "title"))
    assert titles["release_notice"] == "At least 48 hours' notice of a release, where possible, when DHS asks"
    assert titles["hold_request"].startswith("Honor ")
    assert not any("Honour" in t for t in titles.values())


def test_the_answer_filter_as_of_a_day_reads_that_days_answers(client, seeded):
    def count(day, answer):
        return client.get(API, {"as_of": day, "answer": answer}).json()["count"]

    assert count("2017-08-02", "hold_request:yes") == 0  # nothing reported them yet
    assert count("2017-08-02", "hold_request:unknown") == 12
    assert count("2017-08-03", "hold_request:yes") == 12
    # Baltimore and San Bernardino: Reuters, 2017-08-04. Albuquerque and Stockton rest on a report
    # dated only "August 2017": with no exact day, it counts from the day it was recorded.
    assert count("2017-09-01", "facility_access:not_applicable") == 2
    assert count(datetime.date.today().isoformat(), "facility_access:not_applicable") == 4
