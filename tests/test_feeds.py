"""RSS feeds of status changes: valid XML, newest first, one for everything and one per program."""

import datetime
import html
import xml.etree.ElementTree as ET

import pytest

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


def parse(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "rss"
    return root.find("channel")


@pytest.fixture
def seed():
    return seed_psp_2017()


def test_the_changes_feed_is_valid_rss_with_one_item_per_change(client, seed):
    channel = parse(client.get("/feeds/changes/"))
    assert channel.findtext("title") == "PSP Tracker: status changes"
    assert channel.findtext("link") == "http://testserver/jurisdictions/"
    items = channel.findall("item")
    assert len(items) == 16
    guids = {item.findtext("guid") for item in items}
    assert len(guids) == 16


def test_a_feed_item_says_what_changed_when_and_on_what_source(client, seed):
    source = SourceFactory(title="DOJ press release", publisher="U.S. Department of Justice", url="")
    change = StatusChangeFactory(
        enrollment=seed["stockton-ca"],
        from_status="letter_sent",
        to_status="participating",
        effective_on=datetime.date(2017, 10, 2),
        changed_at=datetime.datetime(2030, 10, 3, 9, 30, tzinfo=datetime.UTC),
        note="Certification accepted.",
        source=source,
    )
    item = parse(client.get("/feeds/changes/")).find("item")
    assert item.findtext("title") == "Stockton, CA: Letter sent → Participating (Public Safety Partnership)"
    assert item.findtext("link") == f"http://testserver/jurisdictions/stockton-ca/#change-{change.pk}"
    assert item.findtext("guid") == f"status-change-{change.pk}"
    assert item.findtext("pubDate") == "Thu, 03 Oct 2030 09:30:00 +0000"
    assert item.findtext("description") == (
        "Status in the Public Safety Partnership: Participating. Effective 2017-10-02. "
        "Recorded 2030-10-03. Certification accepted. "
        "Source: DOJ press release (U.S. Department of Justice, 2017-08-03)."
    )
    assert [c.text for c in item.findall("category")] == ["psp", "participating"]


def test_the_program_feed_has_only_that_programs_changes(client, seed):
    other = ProgramFactory(slug="byrne-jag", name="Byrne JAG")
    RequirementFactory(program=other, code="notice")
    change = StatusChangeFactory(
        enrollment=EnrollmentFactory(
            program=other, jurisdiction=JurisdictionFactory(name="Dayton", state="OH"), status="pending"
        )
    )
    channel = parse(client.get("/programs/byrne-jag/feed/"))
    assert channel.findtext("title") == "PSP Tracker: status changes in the Byrne JAG"
    assert channel.findtext("link") == "http://testserver/programs/byrne-jag/"
    assert [i.findtext("guid") for i in channel.findall("item")] == [f"status-change-{change.pk}"]
    assert len(parse(client.get("/programs/psp/feed/")).findall("item")) == 16
    assert len(parse(client.get("/feeds/changes/")).findall("item")) == 17


def test_the_feed_of_an_unknown_program_is_a_404(client, db):
    assert client.get("/programs/nope/feed/").status_code == 404


def test_an_empty_feed_is_still_valid(client, db):
    assert parse(client.get("/feeds/changes/")).findall("item") == []


def test_the_feed_escapes_names_and_notes(client, db):
    enrollment = EnrollmentFactory(jurisdiction=JurisdictionFactory(name="A & B <Town>", state="TN"))
    StatusChangeFactory(enrollment=enrollment, note="<b>bold</b> & more")
    item = parse(client.get("/feeds/changes/")).find("item")
    # A feed reader parses the XML, then shows the title as HTML: escaped once more for that, the
    # name shows as text (a reader decoding the HTML gets the name back, not markup).
    title = item.findtext("title")
    assert title.startswith("A &amp; B &lt;Town&gt;, TN: New → Pending")
    assert html.unescape(title).startswith("A & B <Town>, TN: New → Pending")
    # The description is read as HTML: what was typed shows as text, never as markup.
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in item.findtext("description")


def test_the_feed_is_capped_at_fifty_items(client, db):
    enrollment = EnrollmentFactory()
    StatusChangeFactory.create_batch(55, enrollment=enrollment)
    assert len(parse(client.get("/feeds/changes/")).findall("item")) == 50
