"""The public pages: program overview, jurisdiction list (and its CSV), detail, footer.

Data is built with the factories (`seed_psp_2017` types out the seed's facts); nothing reads
data/psp_2017.csv.
"""

import csv
import datetime
import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jurisdictions.context_processors import site_footer
from jurisdictions.models import Certification, Jurisdiction, Program, StatusChange
from jurisdictions.transfer import csvio
from tests.factories import (
    EnrollmentFactory,
    JurisdictionFactory,
    ProgramFactory,
    RequirementFactory,
    SourceFactory,
    StatusChangeFactory,
    seed_psp_2017,
)

pytestmark = pytest.mark.django_db

LIST = reverse("jurisdictions:jurisdiction-list")
PARTICIPATING_2017 = [
    "baton-rouge-la",
    "birmingham-al",
    "buffalo-ny",
    "cincinnati-oh",
    "houston-tx",
    "indianapolis-in",
    "jackson-tn",
    "kansas-city-mo",
    "lansing-mi",
    "memphis-tn",
    "springfield-il",
    "toledo-oh",
]
LETTER_SENT_2017 = ["albuquerque-nm", "baltimore-md", "san-bernardino-ca", "stockton-ca"]


@pytest.fixture
def seed():
    return seed_psp_2017()


def listed(client, query="", status=200):
    response = client.get(f"{LIST}?{query}")
    assert response.status_code == status, response.content[:2000]
    return [j.slug for j in response.context["jurisdictions"]]


def error_params(response):
    return [name for name, _label, _messages in response.context["errors"]]


def csv_rows(response):
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


# -- home and program pages ----------------------------------------------------------------------


def test_home_is_the_psp_overview_with_the_seeded_counts(client, seed):
    response = client.get("/")
    assert response.status_code == 200
    assert response.context["program"].slug == "psp"
    assert [(r["value"], r["count"]) for r in response.context["status_rows"]] == [
        ("participating", 12),
        ("letter_sent", 4),
        ("pending", 0),
    ]
    html = response.content.decode()
    assert "Public Safety Partnership" in html
    assert "Run by U.S. Department of Justice" in html
    for value in ("participating", "letter_sent", "pending"):
        assert f'href="/jurisdictions/?program=psp&amp;status={value}"' in html


def test_home_states_the_three_requirements_in_full(client, seed):
    response = client.get("/")
    codes = [r.code for r in response.context["requirements"]]
    assert codes == ["facility_access", "release_notice", "hold_request"]
    html = response.content.decode()
    for requirement in response.context["requirements"]:
        assert requirement.text in html


def test_home_chart_counts_participation_by_state(client, seed):
    response = client.get("/")
    rows = {r["code"]: r["counts"] for r in response.context["by_state"]}
    assert len(rows) == 13
    assert rows["CA"] == {"pending": 0, "letter_sent": 2, "participating": 0}
    assert rows["OH"] == {"pending": 0, "letter_sent": 0, "participating": 2}
    assert rows["TN"] == {"pending": 0, "letter_sent": 0, "participating": 2}
    assert [r["code"] for r in response.context["by_state"]][:3] == ["CA", "OH", "TN"]
    html = response.content.decode()
    # Server-rendered: a table with a caption and an SVG bar per state, no script.
    assert "<caption>Jurisdictions enrolled in the Public Safety Partnership, by state and status" in html
    assert html.count('<svg class="bar ') == 26  # one in the row header (phone), one in its column
    assert "<script" not in html


def test_home_lists_the_latest_status_changes_newest_first(client, seed):
    newest = StatusChangeFactory(
        enrollment=seed["stockton-ca"],
        from_status="letter_sent",
        to_status="letter_sent",
        changed_at=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
        note="Response received.",
    )
    response = client.get("/")
    changes = list(response.context["latest_changes"])
    assert len(changes) == 10
    assert changes[0] == newest
    assert "Response received." in response.content.decode()


def test_other_programs_have_their_own_page(client, seed):
    other = ProgramFactory(slug="byrne-jag", name="Byrne JAG")
    RequirementFactory(program=other, code="notice", text="Give notice.")
    EnrollmentFactory(program=other, status="pending")
    response = client.get(reverse("jurisdictions:program-detail", kwargs={"slug": "byrne-jag"}))
    assert response.status_code == 200
    assert [(r["value"], r["count"]) for r in response.context["status_rows"]] == [
        ("participating", 0),
        ("letter_sent", 0),
        ("pending", 1),
    ]
    assert "Give notice." in response.content.decode()
    assert 'href="/programs/byrne-jag/feed/"' in response.content.decode()


def test_an_unknown_program_is_a_404(client, db):
    assert client.get("/programs/nope/").status_code == 404


def test_home_without_any_program_says_so(client, db):
    Program.objects.all().delete()
    response = client.get("/")
    assert response.status_code == 200
    assert "No program has been recorded yet." in response.content.decode()


# -- list: every filter, exact results -----------------------------------------------------------


def test_list_shows_every_jurisdiction_by_name(client, seed):
    assert listed(client) == sorted(PARTICIPATING_2017 + LETTER_SENT_2017)


def test_list_filters_by_status(client, seed):
    assert listed(client, "status=participating") == PARTICIPATING_2017
    assert listed(client, "status=letter_sent") == LETTER_SENT_2017
    assert listed(client, "status=pending") == []


def test_list_filters_by_several_statuses_at_once(client, seed):
    EnrollmentFactory(status="pending", jurisdiction=JurisdictionFactory(name="Dayton", state="OH"))
    assert listed(client, "status=pending&status=letter_sent") == sorted(["dayton-oh", *LETTER_SENT_2017])


def test_list_filters_by_state(client, seed):
    assert listed(client, "state=CA") == ["san-bernardino-ca", "stockton-ca"]
    assert listed(client, "state=CA&state=TN") == [
        "jackson-tn",
        "memphis-tn",
        "san-bernardino-ca",
        "stockton-ca",
    ]
    assert listed(client, "state=CA&status=participating") == []
    assert listed(client, "state=OH&status=participating") == ["cincinnati-oh", "toledo-oh"]


def test_a_filter_matching_nothing_says_so_and_offers_the_whole_list(client, seed):
    """A page of zero rows is still a page: "0 jurisdictions", not the "correct the filters" notice
    of a refused request."""
    response = client.get(f"{LIST}?state=AK")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Jurisdictions (0) · PSP Tracker</title>" in html
    assert '<h2 id="results-title">0 jurisdictions</h2>' in html
    assert f'No jurisdiction matches these filters. <a href="{LIST}">Show all jurisdictions</a>.' in html
    assert "No results shown" not in html and "Correct the filters above" not in html


def test_list_filters_by_kind(client, seed):
    JurisdictionFactory(name="Shelby County", state="TN", kind="county")
    assert listed(client, "kind=county") == ["shelby-county-tn"]
    assert len(listed(client, "kind=city")) == 16


def test_list_filters_by_program(client, seed):
    other = ProgramFactory(slug="byrne-jag")
    RequirementFactory(program=other, code="notice")
    EnrollmentFactory(program=other, jurisdiction=seed["stockton-ca"].jurisdiction, status="pending")
    assert listed(client, "program=byrne-jag") == ["stockton-ca"]
    assert listed(client, "program=psp&status=pending") == []
    assert listed(client, "program=byrne-jag&status=pending") == ["stockton-ca"]


def test_list_filters_by_the_answer_to_a_requirement(client, seed):
    EnrollmentFactory(
        status="letter_sent",
        jurisdiction=JurisdictionFactory(name="Dayton", state="OH"),
        answers={"facility_access": "yes", "hold_request": "no"},
    )
    assert listed(client, "answer=hold_request:no") == ["dayton-oh"]
    assert listed(client, "answer=facility_access:yes&answer=hold_request:unknown") == []
    assert listed(client, "answer=facility_access:yes&state=OH") == [
        "cincinnati-oh",
        "dayton-oh",
        "toledo-oh",
    ]


def test_list_ignores_the_empty_values_a_submitted_form_sends(client, seed):
    query = (
        "search=&status=participating&program=&answer=&answer=release_notice:yes&answer="
        "&updated_since=&ordering=&state=OH"
    )
    assert listed(client, query) == ["cincinnati-oh", "toledo-oh"]


def test_list_searches_names_in_any_case(client, seed):
    assert listed(client, "search=SAN") == ["san-bernardino-ca"]
    assert listed(client, "search=%20%20ton%20") == ["baton-rouge-la", "houston-tx", "stockton-ca"]


def test_list_filters_by_update_date(client, seed):
    Jurisdiction.objects.exclude(slug="memphis-tn").update(
        updated_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    )
    with time_machine.travel(datetime.datetime(2021, 1, 1, tzinfo=datetime.UTC)):
        Jurisdiction.objects.filter(slug="memphis-tn").update(
            updated_at=datetime.datetime(2020, 6, 2, tzinfo=datetime.UTC)
        )
        assert listed(client, "updated_since=2020-06-01") == ["memphis-tn"]
        assert listed(client, "updated_since=2020-06-01T00:00:00Z") == ["memphis-tn"]


def test_list_sorts_by_name_state_and_status(client, seed):
    assert listed(client, "ordering=-name")[:3] == ["toledo-oh", "stockton-ca", "springfield-il"]
    assert listed(client, "ordering=state")[:4] == [
        "birmingham-al",
        "san-bernardino-ca",
        "stockton-ca",
        "springfield-il",
    ]
    assert listed(client, "ordering=status") == PARTICIPATING_2017 + LETTER_SENT_2017
    assert listed(client, "ordering=-status") == LETTER_SENT_2017 + PARTICIPATING_2017


def test_list_paginates_fifty_rows_a_page_and_keeps_the_filters(client, db):
    for n in range(55):
        EnrollmentFactory(status="pending", jurisdiction=JurisdictionFactory(name=f"Town {n:02d}"))
    JurisdictionFactory(name="Town 99", state="CA")
    first = client.get(f"{LIST}?state=TN")
    assert len(first.context["jurisdictions"]) == 50
    assert first.context["page_obj"].paginator.count == 55
    html = first.content.decode()
    assert "55 jurisdictions" in html
    assert 'href="?state=TN&amp;page=2" rel="next"' in html
    assert listed(client, "state=TN&page=2") == [f"town-{n:02d}-tn" for n in range(50, 55)]


def test_list_rows_show_state_status_requirements_certified_and_last_change(client, seed):
    StatusChange.objects.filter(enrollment=seed["memphis-tn"]).update(
        changed_at=datetime.datetime(2017, 9, 1, 12, tzinfo=datetime.UTC)
    )
    html = client.get(f"{LIST}?search=memphis").content.decode()
    assert '<a href="/jurisdictions/memphis-tn/">Memphis</a>' in html
    assert '<abbr title="Tennessee">TN</abbr>' in html
    assert '<span class="status status--participating">Participating</span>' in html
    assert 'since <time datetime="2017-06-20">2017-06-20</time>' in html
    assert "3 of 3" in html
    assert ">2017-09-01</time>" in html
    html = client.get(f"{LIST}?search=stockton").content.decode()
    assert "0 of 3" in html
    assert '<span class="status status--letter_sent">Letter sent</span>' in html


def test_list_form_keeps_the_values_from_the_url(client, seed):
    html = client.get(
        f"{LIST}?search=a&status=participating&state=TN&state=OH&answer=hold_request:yes&ordering=state"
    ).content.decode()
    assert 'name="search" value="a"' in html
    assert 'value="participating" id="id_status_participating" checked' in html
    assert 'value="letter_sent" id="id_status_letter_sent">' in html
    assert 'value="TN" id="id_state_TN" checked' in html
    assert 'value="OH" id="id_state_OH" checked' in html
    assert 'value="CA" id="id_state_CA">' in html
    assert '<option value="hold_request:yes" selected>' in html
    assert '<option value="state" selected>' in html


def test_list_form_labels_every_control(client, seed):
    html = client.get(LIST).content.decode()
    for control_id in ("id_search", "id_program", "id_updated_since", "id_ordering"):
        assert f'<label for="{control_id}">' in html
    # Issue 19: the state filter is checkboxes (no modifier key), grouped, each labelled.
    assert html.count('<label for="id_state_') == 56
    assert '<label for="id_state_TN">Tennessee</label>' in html
    territories = html.index("<legend>District of Columbia and territories</legend>")
    assert html.index("<legend>States</legend>") < html.index('id="id_state_WY"') < territories
    assert territories < html.index('id="id_state_DC"') < html.index('id="id_state_VI"')
    for code in ("facility_access", "release_notice", "hold_request"):
        assert f'<label for="id_answer_{code}">' in html
    assert '<label for="id_status_participating">' in html
    assert '<label for="id_kind_county">' in html


def test_list_table_has_a_caption_and_scoped_headers(client, seed):
    html = client.get(LIST).content.decode()
    # The words of the order are the FilterSet's ordering label.
    assert "<caption>Jurisdictions matching the filters; sorted by name (A to Z)</caption>" in html
    assert html.count('<th scope="col"') == 5
    assert html.count('<th scope="row"') == 16


def test_list_query_count_does_not_grow_with_the_page_size(client, db):
    for n in range(30):
        EnrollmentFactory(status="pending", jurisdiction=JurisdictionFactory(name=f"Town {n:02d}"))
        StatusChangeFactory(enrollment=Jurisdiction.objects.get(name=f"Town {n:02d}").enrollments.get())

    def queries(query):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"{LIST}?{query}")
        assert response.status_code == 200
        return len(captured)

    small, large = queries("page_size=2"), queries("page_size=30")
    assert small == large
    assert queries("page_size=30&status=pending&state=TN") == large
    # Form (requirements, programs), the page with its count and the enrollments with their
    # answers (the API's statement on PostgreSQL, rows.listed; two queries elsewhere), programs
    # with their requirement counts, last changes, the footer's two (sources; the last recorded
    # change with the latest effective date, issue 14's "facts as of"), and the map's marks (every
    # matching jurisdiction, not only the page's): eight or nine in all, whatever the page size.
    assert large == (8 if connection.vendor == "postgresql" else 9)


# -- list: bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("status=bogus", "status"),
        ("state=ZZ", "state"),
        ("state=tn", "state"),
        ("kind=planet", "kind"),
        ("program=nope", "program"),
        ("answer=hold_request:maybe", "answer"),
        ("answer=nothing", "answer"),
        ("updated_since=yesterday", "updated_since"),
        ("updated_since=2017-13-45", "updated_since"),
        ("ordering=population", "ordering"),
        ("ordering=status;drop", "ordering"),
        ("search=" + "x" * 101, "search"),
        ("search=" + "x" * 20000, "search"),
        ("sttus=participating", "sttus"),
        ("page_size=0", "page_size"),
        ("page_size=abc", "page_size"),
        ("page_size=100000", "page_size"),
        ("page_size=%C2%B2", "page_size"),
        ("format=xml", "format"),
        ("page=abc", "page"),
        ("page=1.5", "page"),
        ("page=%C2%B2", "page"),
        ("search=%00", "search"),
        ("program=%00", "program"),
        ("search=memphis&search=jackson", "search"),
        ("page_size=5&page_size=10", "page_size"),
    ],
)
def test_a_bad_parameter_shows_the_list_page_with_a_message_naming_it(client, seed, query, param):
    response = client.get(f"{LIST}?{query}")
    assert response.status_code == 400
    assert "jurisdictions/jurisdiction_list.html" in [t.name for t in response.templates]
    assert error_params(response) == [param]
    assert response.context["jurisdictions"] == []
    assert f"<code>{param}</code>" in response.content.decode()


@pytest.mark.parametrize("page", ["0", "-1", "999999", "99999999999999999999"])
def test_a_page_out_of_range_is_a_404_with_a_message(client, seed, page):
    response = client.get(f"{LIST}?page={page}")
    assert response.status_code == 404
    assert error_params(response) == ["page"]
    assert "this list has 1 page." in response.content.decode()


def test_several_bad_parameters_are_all_named(client, seed):
    response = client.get(f"{LIST}?status=bogus&state=ZZ&color=red")
    assert response.status_code == 400
    assert sorted(error_params(response)) == ["color", "state", "status"]


def test_a_bad_csv_request_is_the_page_with_a_message_not_a_file(client, seed):
    response = client.get(f"{LIST}?format=csv&status=bogus")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert error_params(response) == ["status"]


def test_what_the_user_typed_is_escaped(client, seed):
    attack = '"><script>alert(1)</script>'
    for params in ({"search": attack}, {"status": attack}, {attack: "1"}, {"updated_since": attack}):
        html = client.get(LIST, params).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_huge_search_string_is_refused_without_being_echoed_in_full(client, seed):
    response = client.get(LIST, {"search": "y" * 20000})
    assert response.status_code == 400
    assert error_params(response) == ["search"]
    assert "y" * 201 not in response.content.decode()


# -- CSV -----------------------------------------------------------------------------------------


def test_the_download_link_carries_the_filters(client, seed):
    html = client.get(f"{LIST}?state=CA&page=1").content.decode()
    assert 'href="?state=CA&amp;format=csv"' in html


ANSWER_PREFIXES = ("facility_access_", "release_notice_", "hold_request_")


def test_the_csv_of_a_filtered_list_has_exactly_its_rows(client, seed):
    response = client.get(f"{LIST}?state=CA&format=csv")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="psp-tracker-jurisdictions-')
    rows = csv_rows(response)
    assert [r["slug"] for r in rows] == ["san-bernardino-ca", "stockton-ca"]
    assert rows[1] == {
        "slug": "stockton-ca",
        "name": "Stockton",
        "state": "CA",
        "kind": "city",
        "geoid": "0675000",
        "ocd_id": "ocd-division/country:us/state:ca/place:stockton",
        "program": "psp",
        "status": "letter_sent",
        "site_type": "",
        "letter_sent_on": "2017-08-03",
        "response_due_on": "2017-08-18",
        "joined_on": "",
        "facility_access": "unknown",
        "release_notice": "unknown",
        "hold_request": "unknown",
        "notes": "",
        "source_title": "Sessions Takes Action Against Sanctuary Cities",
        "source_publisher": "Breitbart",
        "source_url": "",
        "source_date": "",
        # Issue 14: the site type's own document (none here).
        "site_type_source_title": "",
        "site_type_source_publisher": "",
        "site_type_source_url": "",
        "site_type_source_date": "",
        # Each answer's details (who runs the facility, citation, ...): none in the seed.
        **{column: "" for column in csvio.csv_columns() if column.startswith(ANSWER_PREFIXES)},
    }


def test_the_csv_follows_status_and_sort_order(client, seed):
    rows = csv_rows(client.get(f"{LIST}?status=participating&ordering=-name&format=csv"))
    assert [r["slug"] for r in rows] == PARTICIPATING_2017[::-1]
    assert {r["status"] for r in rows} == {"participating"}


def test_the_csv_of_a_program_filter_writes_only_that_programs_rows(client, seed):
    other = ProgramFactory(slug="byrne-jag")
    RequirementFactory(program=other, code="notice")
    EnrollmentFactory(program=other, jurisdiction=seed["stockton-ca"].jurisdiction, status="pending")
    rows = csv_rows(client.get(f"{LIST}?program=byrne-jag&format=csv"))
    assert [(r["slug"], r["program"], r["status"]) for r in rows] == [("stockton-ca", "byrne-jag", "pending")]


# -- detail --------------------------------------------------------------------------------------


def test_detail_shows_memphis_as_seeded(client, seed):
    response = client.get("/jurisdictions/memphis-tn/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Memphis, Tennessee</h1>" in html
    assert "<code>4748000</code>" in html
    assert "<dt>Kind</dt><dd>City</dd>" in html
    assert '<span class="status status--participating">Participating</span>' in html
    # Issue 14: each fact names its document; the site type has none in this seed: said so.
    assert (
        '<dt>Site type</dt><dd>Operations <span class="cited">(source: <span class="muted no-source">' in html
    )
    assert '<time datetime="2017-06-20">20 June 2017</time>' in html
    assert (
        '<dt>Requirements met</dt><dd class="answers-summary">3 of 3 answered yes (basis not recorded)</dd>'
        in html
    )
    assert html.count('<span class="answer answer--yes">Yes</span>') == 3
    assert "<cite>Sessions Takes Action Against Sanctuary Cities</cite>, Breitbart" in html


def test_detail_puts_status_and_answers_before_the_identifiers(client, seed):
    # Issue 19: on a phone the reader sees the status first; GEOID, OCD id and slug come last.
    html = client.get("/jurisdictions/memphis-tn/").content.decode()
    status = html.index('<span class="status status--participating">Participating</span>')
    answers = html.index('<span class="answer answer--yes">Yes</span>')
    identifiers = html.index('<h2 id="identity-title">')
    assert html.index("<h1>Memphis, Tennessee</h1>") < status < answers < identifiers
    assert identifiers < html.index("<code>4748000</code>") < html.index("<code>memphis-tn</code>")
    assert html.index('<h2 id="timeline-title">') < identifiers


def test_detail_shows_a_letter_and_its_due_date(client, seed):
    html = client.get("/jurisdictions/stockton-ca/").content.decode()
    assert (
        '<dt>Letter sent</dt><dd><time datetime="2017-08-03">3 August 2017</time> <span class="cited">'
        in html
    )
    assert (
        '<dt>Response due</dt><dd><time datetime="2017-08-18">18 August 2017</time> <span class="cited">'
        in html
    )
    # Derived from the dates (issue 14), not stored as a status.
    assert 'no response recorded by <time datetime="2017-08-18">18 August 2017</time>' in html
    assert html.count('<span class="answer answer--unknown">Unknown</span>') == 3


def test_detail_shows_each_certification_in_full(client, seed):
    source = SourceFactory(title="Council resolution 17-1", url="https://example.org/res-17-1")
    enrollment = EnrollmentFactory(
        jurisdiction=JurisdictionFactory(name="Dayton", state="OH"),
        status="pending",
        answers={"facility_access": "yes", "hold_request": "not_applicable"},
    )
    Certification.objects.filter(enrollment=enrollment, requirement__code="facility_access").update(
        legal_basis="policy",
        citation="Police General Order 4.2",
        evidence_url="https://example.org/order-4-2.pdf",
        certified_by="Chief of Police",
        certified_on=datetime.date(2017, 9, 1),
        source=source,
    )
    html = client.get("/jurisdictions/dayton-oh/").content.decode()
    assert "<dt>Legal basis</dt><dd>Policy</dd>" in html
    assert "<dt>Citation</dt><dd>Police General Order 4.2</dd>" in html
    assert '<a class="wrap-anywhere" href="https://example.org/order-4-2.pdf">' in html
    assert (
        '<dt>Certified</dt><dd>by Chief of Police on <time datetime="2017-09-01">1 September 2017</time>'
        in html
    )
    assert '<a href="https://example.org/res-17-1">Council resolution 17-1</a>' in html
    assert "Not applicable (does not run the facility)" in html
    assert "<dt>Facility run by</dt><dd>County sheriff</dd>" in html
    assert (
        '<dt>Requirements met</dt><dd class="answers-summary">1 of 3 answered yes (basis not recorded)</dd>'
        in html
    )


def test_detail_timeline_lists_status_changes_with_dates_notes_and_sources(client, seed):
    enrollment = seed["stockton-ca"]
    source = SourceFactory(title="DOJ press release", url="https://example.org/pr")
    StatusChangeFactory(
        enrollment=enrollment,
        from_status="letter_sent",
        to_status="participating",
        effective_on=datetime.date(2017, 10, 2),
        changed_at=datetime.datetime(2030, 10, 3, tzinfo=datetime.UTC),
        note="Certification accepted.",
        source=source,
    )
    response = client.get("/jurisdictions/stockton-ca/")
    timeline = list(response.context["timeline"])
    assert [(c.from_status, c.to_status) for c in timeline] == [
        ("letter_sent", "participating"),
        ("", "letter_sent"),
    ]
    html = response.content.decode()
    assert f'id="change-{timeline[0].pk}"' in html
    assert '<dt>Effective</dt><dd><time datetime="2017-10-02">2 October 2017</time></dd>' in html
    assert ">3 October 2030</time> (via system)" in html
    assert "<dt>Note</dt><dd>Certification accepted.</dd>" in html
    assert '<a href="https://example.org/pr">DOJ press release</a>' in html


def test_detail_of_a_jurisdiction_in_no_program(client, db):
    JurisdictionFactory(name="Jackson", state="MS")
    response = client.get("/jurisdictions/jackson-ms/")
    assert response.status_code == 200
    assert "This jurisdiction is not enrolled in any program." in response.content.decode()


def test_detail_of_an_unknown_slug_is_a_404(client, seed):
    response = client.get("/jurisdictions/atlantis-zz/")
    assert response.status_code == 404
    # The site's own 404 page, in the site's layout.
    assert [t.name for t in response.templates][:2] == ["404.html", "base.html"]


def test_detail_query_count_is_fixed(client, seed, django_assert_max_num_queries):
    with django_assert_max_num_queries(9):
        client.get("/jurisdictions/memphis-tn/")


# -- every page: feed links and footer -----------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/jurisdictions/", "/jurisdictions/memphis-tn/", "/programs/psp/"])
def test_every_page_links_the_changes_feed_in_its_head(client, seed, path):
    html = client.get(path).content.decode()
    head = html.split("</head>")[0]
    assert (
        '<link rel="alternate" type="application/rss+xml" title="PSP Tracker: all status changes" '
        'href="/feeds/changes/">' in head
    )


def test_program_and_detail_pages_also_link_the_program_feed(client, seed):
    for path in ("/", "/jurisdictions/memphis-tn/"):
        head = client.get(path).content.decode().split("</head>")[0]
        assert 'rel="alternate" type="application/rss+xml"' in head
        assert 'href="/programs/psp/feed/"' in head


def test_footer_names_the_sources_and_the_latest_change(client, seed):
    StatusChange.objects.filter(enrollment=seed["toledo-oh"]).update(
        changed_at=datetime.datetime(2030, 5, 6, tzinfo=datetime.UTC)
    )
    html = client.get("/jurisdictions/").content.decode()
    footer = html.split('<footer class="site-footer">')[1]
    assert "<cite>Sessions Takes Action Against Sanctuary Cities (Breitbart)</cite>" in footer
    assert '<time datetime="2030-05-06T00:00:00+00:00">6 May 2030</time>' in footer


def test_footer_costs_nothing_until_shown_then_two_queries(seed):
    with CaptureQueriesContext(connection) as captured:
        context = site_footer(None)
        assert len(captured) == 0
        # The seed's article and the DOJ release the program now cites (migration 0012).
        assert len(list(context["footer_sources"])) == 2
        assert context["footer_last_change"].year == datetime.date.today().year
        bool(context["footer_last_change"])
    assert len(captured) == 2
