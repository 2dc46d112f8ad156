"""The same change through every door gets the same answer: the admin's change form, the staff
API, the importer and the admin's CSV import (upload, then confirm) all decide through the
services, so they accept and refuse alike, fill the join date alike and record alike."""

import datetime
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jurisdictions.models import Enrollment, Jurisdiction
from jurisdictions.transfer.csvio import export_csv_text
from jurisdictions.transfer.importer import RowError, import_jurisdictions
from tests.factories import EnrollmentFactory, JurisdictionFactory, StaffUserFactory
from tests.test_admin import inline_data
from tests.test_api_writes import token_client

pytestmark = pytest.mark.django_db

DOORS = ["admin", "api", "importer", "admin_import"]
VIA = {"admin": "admin", "api": "api", "importer": "import", "admin_import": "import"}
# What each refusal says, in every door's words (the model's validators and the services' messages).
REASONS = {
    "rule": "3 requirements are not yet: “DHS access to correctional and detention facilities",
    "role": "Only reviewers can set an enrollment to participating",
    "too_long": "at most 10000 characters",
    "not_web": "web address starting with http:// or https://",
}


@dataclass(frozen=True)
class Change:
    """A change to Stockton's enrollment (letter_sent), as the doors express it."""

    status: str = "letter_sent"
    answers: str = "unknown"  # every answer, already stored before the change
    notes: str = ""
    evidence_url: str = ""  # of facility_access
    role: str = "Reviewer"


CASES = {
    "participating with an empty join date": (Change(status="participating", answers="yes"), None),
    "notes within the limit": (Change(notes="n" * 10_000), None),
    "notes over the limit": (Change(notes="n" * 10_001), "too_long"),
    "an ftp evidence URL": (Change(evidence_url="ftp://example.org/order.pdf"), "not_web"),
    "an https evidence URL": (Change(evidence_url="https://example.org/order.pdf"), None),
    "participating without every answer yes": (Change(status="participating"), "rule"),
    "an editor setting participating": (Change(status="participating", answers="yes", role="Editor"), "role"),
}


def stockton(change):
    enrollment = EnrollmentFactory(
        status="letter_sent",
        jurisdiction=JurisdictionFactory(name="Stockton", state="CA", geoid="0675000"),
        letter_sent_on=datetime.date(2017, 8, 3),
        response_due_on=datetime.date(2017, 8, 18),
    )
    enrollment.certifications.update(answer=change.answers)
    return enrollment


def state(enrollment):
    """What a reader can see of the enrollment afterwards, and its last status step."""
    enrollment = Enrollment.objects.get(pk=enrollment.pk)
    answers = sorted(enrollment.certifications.values_list("requirement__code", "answer", "evidence_url"))
    step = enrollment.status_changes.first()
    return {
        "status": enrollment.status,
        "joined_on": enrollment.joined_on,
        "notes_length": len(enrollment.notes),
        "answers": answers,
        "last_step": (step.from_status, step.to_status, step.effective_on, step.via) if step else None,
    }


# -- the doors: each returns the messages of a refusal ([] when the change was accepted) --------


def through_admin(enrollment, change, user):
    client = Client()
    client.force_login(user)
    enrollment.refresh_from_db()
    data = inline_data(enrollment, {}, status=change.status, notes=change.notes)
    for i, certification in enumerate(enrollment.certifications.order_by("requirement__order")):
        data[f"certifications-{i}-legal_basis"] = certification.legal_basis
        data[f"certifications-{i}-citation"] = certification.citation
        if certification.requirement.code == "facility_access":
            data[f"certifications-{i}-evidence_url"] = change.evidence_url
    response = client.post(reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk]), data)
    if response.status_code == 302:
        return []
    assert response.status_code == 200
    return [str(error) for error in response.context["errors"]]


def through_api(enrollment, change, user):
    client = token_client(user)
    messages = []
    facility = enrollment.certifications.get(requirement__code="facility_access")
    if change.evidence_url:
        response = client.patch(
            f"/api/v1/certifications/{facility.pk}/", {"evidence_url": change.evidence_url}, format="json"
        )
        messages += [] if response.status_code == 200 else [str(response.json())]
    if messages:
        return messages
    response = client.patch(
        f"/api/v1/enrollments/{enrollment.pk}/",
        {"status": change.status, "notes": change.notes},
        format="json",
    )
    return [] if response.status_code == 200 else [str(response.json())]


def csv_of(enrollment, change):
    """The enrollment as exported, with the change made to its cells (as a person edits a file)."""
    text = export_csv_text(Jurisdiction.objects.filter(pk=enrollment.jurisdiction_id))
    header, row = text.splitlines()
    cells = dict(zip(header.split(","), row.split(","), strict=True))
    cells.update({"status": change.status, "notes": change.notes, "joined_on": ""})
    cells["facility_access_evidence_url"] = change.evidence_url
    return (header + "\n" + ",".join(cells[c] for c in header.split(",")) + "\n").encode()


def through_importer(enrollment, change, user):
    report = import_jurisdictions(csv_of(enrollment, change), filename="edit.csv", user=user)
    return [str(error) for error in report.errors]


def through_admin_import(enrollment, change, user):
    client = Client()
    client.force_login(user)
    url = reverse("admin:jurisdictions_jurisdiction_import")
    upload = SimpleUploadedFile("edit.csv", csv_of(enrollment, change), content_type="text/csv")
    job = client.post(url, {"file": upload}, follow=True).context["job"]
    if job.errors:
        return [str(RowError(*error)) for error in job.errors]
    response = client.post(job.get_absolute_url(), {"confirm": "1", "fingerprint": job.fingerprint})
    assert response["Location"] == reverse("admin:jurisdictions_jurisdiction_changelist")  # applied
    return []


THROUGH = {
    "admin": through_admin,
    "api": through_api,
    "importer": through_importer,
    "admin_import": through_admin_import,
}


def expected(enrollment_before, change, reason, door):
    """The one outcome every door must give."""
    if reason is not None:
        return enrollment_before
    joined = timezone.localdate() if change.status == "participating" else None
    answers = [
        (code, change.answers, change.evidence_url if code == "facility_access" else "")
        for code in ("facility_access", "hold_request", "release_notice")
    ]
    step = ("letter_sent", "participating", joined, VIA[door]) if change.status == "participating" else None
    return {
        "status": change.status,
        "joined_on": joined,
        "notes_length": len(change.notes),
        "answers": answers,
        "last_step": step or enrollment_before["last_step"],
    }


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("case", list(CASES))
def test_every_door_gives_the_same_answer(case, door):
    change, reason = CASES[case]
    enrollment = stockton(change)
    before = state(enrollment)
    user = StaffUserFactory(groups=[change.role])

    messages = THROUGH[door](enrollment, change, user)

    if reason is None:
        assert messages == []
    else:
        assert any(REASONS[reason] in message for message in messages), messages
    assert state(enrollment) == expected(before, change, reason, door)
