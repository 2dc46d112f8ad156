"""Counts in words (issue 19): a message with a count reads right for one and for many
("this requirement", "these 3 requirements"), never "these 1 requirement"."""

import pytest
from django.urls import reverse

from tests.factories import EnrollmentFactory, JurisdictionFactory, ProgramFactory, RequirementFactory

pytestmark = pytest.mark.django_db


def test_a_program_with_one_requirement_says_this_requirement(client):
    program = ProgramFactory(slug="grants")
    RequirementFactory(program=program, title="Share data")
    content = client.get(reverse("jurisdictions:program-detail", args=["grants"])).content.decode()
    assert "meet this requirement:" in content
    assert "these 1" not in content


def test_a_program_with_three_requirements_says_each_of_these_3(client, psp):
    content = client.get(reverse("jurisdictions:program-detail", args=["psp"])).content.decode()
    assert "meet each of these 3 requirements:" in content


def test_the_list_names_this_one_jurisdiction_or_these_n(client):
    EnrollmentFactory(jurisdiction=JurisdictionFactory(name="Memphis"))
    content = client.get(reverse("jurisdictions:jurisdiction-list")).content.decode()
    assert 'Download CSV<span class="visually-hidden"> of this jurisdiction</span>' in content
    EnrollmentFactory(jurisdiction=JurisdictionFactory(name="Stockton", state="CA"))
    content = client.get(reverse("jurisdictions:jurisdiction-list")).content.decode()
    assert 'GeoJSON<span class="visually-hidden"> of these 2 jurisdictions</span>' in content
