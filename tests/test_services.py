import pytest
from django.core.exceptions import ValidationError

from jurisdictions import services
from jurisdictions.models import Enrollment, StatusChange
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def test_set_status_refuses_participating_until_every_answer_is_yes(staff_user):
    enrollment = EnrollmentFactory(status="letter_sent")
    with pytest.raises(ValidationError) as exc:
        services.enrollment_set_status(
            enrollment=enrollment, status="participating", user=staff_user, via="api"
        )
    assert "facility_access, release_notice, hold_request" in exc.value.message_dict["status"][0]
    enrollment.refresh_from_db()
    assert enrollment.status == "letter_sent"
    assert not StatusChange.objects.exists()


def test_set_status_records_the_change_with_user_and_door(staff_user):
    enrollment = EnrollmentFactory(status="letter_sent")
    enrollment.certifications.update(answer="yes")
    services.enrollment_set_status(
        enrollment=enrollment, status="participating", user=staff_user, via="admin", note="Certified"
    )
    change = StatusChange.objects.get()
    assert (change.from_status, change.to_status, change.changed_by, change.via, change.note) == (
        "letter_sent",
        "participating",
        staff_user,
        "admin",
        "Certified",
    )
    enrollment.refresh_from_db()
    assert enrollment.version == 2
    assert change.effective_on == enrollment.joined_on
    assert enrollment.history.latest().history_user == staff_user
    assert enrollment.history.latest().history_via == "admin"


def test_set_status_refuses_a_stale_version(staff_user):
    enrollment = EnrollmentFactory(status="pending")
    Enrollment.objects.filter(pk=enrollment.pk).update(version=5)
    with pytest.raises(services.StaleWriteError):
        services.enrollment_set_status(
            enrollment=enrollment, status="letter_sent", user=staff_user, via="api", expected_version=1
        )
    enrollment.refresh_from_db()
    assert enrollment.status == "pending"


def test_set_status_to_the_same_status_records_no_step(staff_user):
    enrollment = EnrollmentFactory(status="pending")
    services.enrollment_set_status(enrollment=enrollment, status="pending", user=staff_user, via="api")
    assert not StatusChange.objects.exists()
