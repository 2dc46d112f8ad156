"""Feeds for anything (issue 16): RSS and Atom for all changes, per program, per jurisdiction and for
any filtered list with the list's own parameters, linked from the page showing the same list."""

import xml.etree.ElementTree as ET

import pytest

from jurisdictions.models import Jurisdiction, StatusChange
from tests.factories import (
    EnrollmentFactory,
    JurisdictionFactory,
    ProgramFactory,
    StatusChangeFactory,
    seed_psp_2017,
)

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def seed():
    seed_psp_2017()
    # A second program's change in California, so that a program filter has something to leave out.
    other = ProgramFactory(slug="byrne-jag", name="Byrne JAG")
    stockton = Jurisdiction.objects.get(slug="stockton-ca")
    StatusChangeFactory(enrollment=EnrollmentFactory(program=other, jurisdiction=stockton, status="pending"))


def rss_guids(response):
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/rss+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "rss" and root.attrib["version"] == "2.0"
    channel = root.find("channel")
    assert channel.findtext("title") and channel.findtext("link") and channel.findtext("description")
    return [item.findtext("guid") for item in channel.findall("item")]


def atom_ids(response):
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    # The elements RFC 4287 requires of a feed and of each entry.
    assert root.findtext(f"{ATOM}id") and root.findtext(f"{ATOM}title") and root.findtext(f"{ATOM}updated")
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:
        assert entry.findtext(f"{ATOM}title") and entry.findtext(f"{ATOM}updated")
        assert entry.find(f"{ATOM}link").attrib["href"]
    return [entry.findtext(f"{ATOM}id") for entry in entries]


def guids(changes):
    return sorted(f"status-change-{change.pk}" for change in changes)


def test_the_state_feed_has_exactly_californias_changes(client, seed):
    california = StatusChange.objects.filter(enrollment__jurisdiction__state="CA")
    assert california.count() == 3  # San Bernardino and Stockton in the PSP, Stockton in Byrne JAG
    assert sorted(rss_guids(client.get("/jurisdictions/feed/?state=CA"))) == guids(california)
    assert sorted(atom_ids(client.get("/jurisdictions/feed/atom/?state=CA"))) == guids(california)


def test_program_and_status_filters_keep_only_that_enrollments_changes(client, seed):
    expected = StatusChange.objects.filter(
        enrollment__jurisdiction__state="CA",
        enrollment__program__slug="psp",
        enrollment__status="letter_sent",
    )
    response = client.get("/jurisdictions/feed/?state=CA&status=letter_sent&program=psp")
    assert sorted(rss_guids(response)) == guids(expected)
    assert len(expected) == 2


def test_a_bad_filter_value_is_a_400_naming_the_parameter(client, seed):
    response = client.get("/jurisdictions/feed/?state=ZZ")
    assert response.status_code == 400
    assert "state" in response.content.decode()
    unknown = client.get("/jurisdictions/feed/atom/?stat=CA")
    assert unknown.status_code == 400
    assert "stat" in unknown.content.decode()


def test_the_jurisdiction_and_program_feeds_exist_in_both_formats(client, seed):
    stockton = StatusChange.objects.filter(enrollment__jurisdiction__slug="stockton-ca")
    assert sorted(rss_guids(client.get("/jurisdictions/stockton-ca/feed/"))) == guids(stockton)
    assert sorted(atom_ids(client.get("/jurisdictions/stockton-ca/feed/atom/"))) == guids(stockton)
    byrne = StatusChange.objects.filter(enrollment__program__slug="byrne-jag")
    assert sorted(atom_ids(client.get("/programs/byrne-jag/feed/atom/"))) == guids(byrne)
    assert len(atom_ids(client.get("/feeds/changes/atom/"))) == StatusChange.objects.count()
    assert client.get("/jurisdictions/nowhere-xx/feed/").status_code == 404


def test_an_atom_title_is_text_not_html(client, db):
    StatusChangeFactory(enrollment=EnrollmentFactory(jurisdiction=JurisdictionFactory(name="A <b> & C")))
    root = ET.fromstring(client.get("/feeds/changes/atom/").content)
    assert root.find(f"{ATOM}entry").findtext(f"{ATOM}title").startswith("A <b> & C, TN:")


def test_each_page_links_the_feeds_of_the_list_it_shows(client, seed):
    page = client.get("/jurisdictions/?state=CA&status=letter_sent&page_size=20").content.decode()
    assert '<link rel="alternate" type="application/rss+xml"' in page
    assert 'href="/jurisdictions/feed/?state=CA&amp;status=letter_sent"' in page
    assert 'href="/jurisdictions/feed/atom/?state=CA&amp;status=letter_sent"' in page
    detail = client.get("/jurisdictions/stockton-ca/").content.decode()
    assert 'href="/jurisdictions/stockton-ca/feed/atom/"' in detail
    program = client.get("/programs/psp/").content.decode()
    assert 'href="/programs/psp/feed/atom/"' in program
