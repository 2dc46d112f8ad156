"""/programs/: every program with its agency, dates, requirement count and status counts (issue 16)."""

import datetime

import pytest
from django.urls import reverse

from jurisdictions.models import Program
from tests.factories import (
    EnrollmentFactory,
    ProgramFactory,
    RequirementFactory,
    StatusChangeFactory,
    seed_psp_2017,
)

pytestmark = pytest.mark.django_db

PROGRAMS = reverse("jurisdictions:program-list")


def test_the_programs_page_lists_each_program_with_its_counts(client, django_assert_max_num_queries):
    seed_psp_2017()
    other = ProgramFactory(slug="byrne-jag", name="Byrne JAG", agency="Bureau of Justice Assistance")
    RequirementFactory(program=other, code="notice", text="Give notice.")
    EnrollmentFactory(program=other, status="pending")
    EnrollmentFactory(program=other, status="pending")
    # The programs with their counts, the data version, and the footer's facts-as-of date.
    with django_assert_max_num_queries(4):
        response = client.get(PROGRAMS)
    assert response.status_code == 200
    rows = {
        row["program"].slug: (row["program"].agency, row["program"].n_requirements, row["counts"])
        for row in response.context["rows"]
    }
    assert rows == {
        "psp": (
            "U.S. Department of Justice",
            3,
            [("participating", 12), ("letter_sent", 4), ("pending", 0)],
        ),
        "byrne-jag": (
            "Bureau of Justice Assistance",
            1,
            [("participating", 0), ("letter_sent", 0), ("pending", 2)],
        ),
    }
    html = response.content.decode()
    assert 'href="/programs/psp/"' in html and 'href="/programs/byrne-jag/"' in html
    assert "/jurisdictions/?program=byrne-jag&amp;status=pending" in html


def test_the_programs_page_shows_the_launch_date_and_the_latest_change(client, psp):
    enrollment = EnrollmentFactory(program=psp, status="letter_sent")
    StatusChangeFactory(
        enrollment=enrollment,
        to_status="letter_sent",
        changed_at=datetime.datetime(2017, 8, 3, 12, tzinfo=datetime.UTC),
    )
    html = client.get(PROGRAMS).content.decode()
    assert f'datetime="{psp.launched_on:%Y-%m-%d}"' in html
    assert "3 August 2017" in html


def test_the_header_links_the_programs_page_and_program_pages_keep_their_urls(client, psp):
    home = client.get("/").content.decode()
    assert f'href="{PROGRAMS}"' in home
    assert client.get(psp.get_absolute_url()).status_code == 200
    assert psp.get_absolute_url() == "/programs/psp/"


def test_without_programs_the_page_says_so(client, db):
    Program.objects.all().delete()  # the data migration's PSP
    response = client.get(PROGRAMS)
    assert response.status_code == 200
    assert "No program has been recorded yet" in response.content.decode()
