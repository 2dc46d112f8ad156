import pytest
from django.urls import reverse

from jurisdictions import services
from jurisdictions.models import Enrollment, Jurisdiction, StatusChange
from tests.factories import EnrollmentFactory, JurisdictionFactory, SourceFactory

pytestmark = pytest.mark.django_db

HOLD = "Honor a written DHS request to hold a person up to 48 hours past release"


def inline_data(enrollment, answers, **fields):
    """POST data for the enrollment change form, with its answer and history inlines."""
    certifications = list(enrollment.certifications.order_by("requirement__order"))
    data = {
        "status": enrollment.status,
        "site_type": enrollment.site_type,
        "letter_sent_on": enrollment.letter_sent_on or "",
        "response_due_on": enrollment.response_due_on or "",
        "joined_on": enrollment.joined_on or "",
        "notes": enrollment.notes,
        "source": enrollment.source_id or "",
        # Issue 14: a new status cites a document chosen with it or, explicitly, none.
        "no_source": "on" if fields.get("status", enrollment.status) != enrollment.status else "",
        "opened_version": enrollment.version,
        "certifications-TOTAL_FORMS": len(certifications),
        "certifications-INITIAL_FORMS": len(certifications),
        "certifications-MIN_NUM_FORMS": 0,
        "certifications-MAX_NUM_FORMS": 1000,
        "status_changes-TOTAL_FORMS": 0,
        "status_changes-INITIAL_FORMS": 0,
        "status_changes-MIN_NUM_FORMS": 0,
        "status_changes-MAX_NUM_FORMS": 1000,
    }
    for i, c in enumerate(certifications):
        data.update(
            {
                f"certifications-{i}-id": c.pk,
                f"certifications-{i}-enrollment": enrollment.pk,
                f"certifications-{i}-answer": answers.get(c.requirement.code, c.answer),
                f"certifications-{i}-facility_operator": "",
                f"certifications-{i}-legal_basis": "policy",
                f"certifications-{i}-citation": "Policy 12",
                f"certifications-{i}-evidence_url": "",
                f"certifications-{i}-certified_by": "Chief of Police",
                f"certifications-{i}-certified_on": "2017-09-01",
                f"certifications-{i}-source": "",
                f"certifications-{i}-opened_version": c.version,
            }
        )
    data.update(fields)
    return data


@pytest.mark.parametrize(
    "name",
    ["jurisdiction", "enrollment", "program", "source"],
)
def test_superuser_can_open_each_list_and_add_page(admin_client, name):
    EnrollmentFactory(status="participating", source=SourceFactory())
    assert admin_client.get(reverse(f"admin:jurisdictions_{name}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:jurisdictions_{name}_add")).status_code == 200


def test_enrollment_page_shows_answers_and_status_history(admin_client):
    enrollment = EnrollmentFactory(status="letter_sent")
    StatusChange.objects.create(
        enrollment=enrollment, from_status="", to_status="letter_sent", note="Letter of 3 August"
    )
    response = admin_client.get(reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "DHS access to correctional and detention facilities" in content
    assert "Letter of 3 August" in content


def test_admin_refuses_participating_while_an_answer_is_not_yes(admin_client):
    enrollment = EnrollmentFactory(status="letter_sent")
    url = reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk])
    data = inline_data(
        enrollment, {"facility_access": "yes", "release_notice": "yes"}, status="participating"
    )
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert f"1 requirement is not yet: “{HOLD}”." in response.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.status == "letter_sent"
    assert not StatusChange.objects.exists()


def test_a_refused_status_says_why_at_the_top_by_title_and_marks_the_rows_to_fix(admin_client):
    """Issue 19: the reason comes first on the page, names requirements by their titles, and the
    answers that stop the status are marked where they are, each linked from the top."""
    enrollment = EnrollmentFactory(status="letter_sent")
    url = reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk])
    data = inline_data(enrollment, {"facility_access": "yes"}, status="participating")
    response = admin_client.post(url, data)
    content = response.content.decode()
    top = content[content.index('id="refusal"') : content.index('class="errornote">')]
    assert content.index('id="refusal"') < content.index('id="id_status"')
    assert "Nothing was saved." in top
    assert "2 requirements are not yet: “At least 48 hours&#x27; notice of a release" in top
    assert f"“{HOLD}”.</li>" in top
    assert "release_notice" not in top and "hold_request" not in top  # titles, not codes
    assert "2 rows are marked below; correct them:" in top
    assert '<a href="#certifications-1">' in top and '<a href="#certifications-2">' in top
    rows = response.context["inline_admin_formsets"][0].formset.forms
    assert [dict(f.errors) for f in rows] == [
        {},
        {"answer": ["Must be yes for the status participating."]},
        {"answer": ["Must be yes for the status participating."]},
    ]
    assert content.count('<div class="form-row errors field-answer">') == 2


def test_a_new_enrollment_refused_by_the_rule_says_why_at_the_top(admin_client, psp):
    response = admin_client.post(
        reverse("admin:jurisdictions_enrollment_add"),
        {"jurisdiction": JurisdictionFactory().pk, "program": psp.pk, "status": "participating"},
    )
    (line,) = response.context["refusal"]
    assert (line["label"], line["anchor"]) == ("Status", "id_status")
    assert line["message"].startswith(
        "Status cannot be participating until every requirement is answered yes; 3 requirements are "
        "not yet: “DHS access to correctional and detention facilities to meet people held there”, "
    )


def test_admin_admits_with_every_answer_yes_and_records_the_staff_user(admin_client, admin_user):
    enrollment = EnrollmentFactory(status="letter_sent")
    url = reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk])
    yes = dict.fromkeys(("facility_access", "release_notice", "hold_request"), "yes")
    response = admin_client.post(
        url, inline_data(enrollment, yes, status="participating", joined_on="2017-10-02")
    )
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.status == "participating"
    assert set(enrollment.certifications.values_list("answer", flat=True)) == {"yes"}
    change = StatusChange.objects.get()
    assert (change.from_status, change.to_status, change.changed_by, change.via) == (
        "letter_sent",
        "participating",
        admin_user,
        "admin",
    )


def test_admin_refuses_to_drop_an_answer_of_a_participating_enrollment(admin_client):
    enrollment = EnrollmentFactory(status="participating")
    url = reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk])
    response = admin_client.post(url, inline_data(enrollment, {"release_notice": "no"}))
    assert "1 requirement is not yet: “At least 48 hours&#x27; notice" in response.content.decode()
    assert enrollment.certifications.get(requirement__code="release_notice").answer == "yes"


def test_admin_creates_an_enrollment_with_one_unknown_answer_per_requirement(admin_client, psp):
    jurisdiction = JurisdictionFactory()
    response = admin_client.post(
        reverse("admin:jurisdictions_enrollment_add"),
        {"jurisdiction": jurisdiction.pk, "program": psp.pk, "status": "pending"},
    )
    assert response.status_code == 302
    enrollment = Enrollment.objects.get()
    assert sorted(enrollment.certifications.values_list("requirement__code", "answer")) == [
        ("facility_access", "unknown"),
        ("hold_request", "unknown"),
        ("release_notice", "unknown"),
    ]
    assert StatusChange.objects.get().to_status == "pending"


def test_admin_refuses_a_new_enrollment_that_starts_participating(admin_client, psp):
    jurisdiction = JurisdictionFactory()
    response = admin_client.post(
        reverse("admin:jurisdictions_enrollment_add"),
        {"jurisdiction": jurisdiction.pk, "program": psp.pk, "status": "participating"},
    )
    assert response.status_code == 200
    assert f"“{HOLD}”." in response.content.decode()
    assert not Enrollment.objects.exists()


def test_admin_adds_a_jurisdiction_and_shows_plain_errors(admin_client):
    url = reverse("admin:jurisdictions_jurisdiction_add")
    ok = {
        "name": "Jackson",
        "state": "MS",
        "kind": "city",
        "slug": "jackson-ms",
        "geoid": "2836000",
        "ocd_id": "",
    }
    inline = {"enrollments-TOTAL_FORMS": 0, "enrollments-INITIAL_FORMS": 0}
    assert admin_client.post(url, ok | inline).status_code == 302
    assert Jurisdiction.objects.get().geoid == "2836000"
    response = admin_client.post(url, ok | inline | {"slug": "jackson-ms-2", "geoid": "28-36"})
    assert "A Census GEOID is 2 to 15 digits" in response.content.decode()


def test_admin_list_filters_by_state_and_incomplete_answers(admin_client):
    done = EnrollmentFactory(status="participating", jurisdiction=JurisdictionFactory(state="TN"))
    open_ = EnrollmentFactory(status="letter_sent", jurisdiction=JurisdictionFactory(state="CA"))
    url = reverse("admin:jurisdictions_enrollment_changelist")
    response = admin_client.get(url, {"answers": "incomplete"})
    assert [e.pk for e in response.context["cl"].result_list] == [open_.pk]
    response = admin_client.get(url, {"jurisdiction__state": "TN"})
    assert [e.pk for e in response.context["cl"].result_list] == [done.pk]


# -- no lost updates ---------------------------------------------------------------------------


def test_a_stale_admin_save_is_refused_with_a_clear_message_and_the_data_kept(
    admin_client, django_user_model
):
    enrollment = EnrollmentFactory(status="pending")
    url = reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk])
    opened = admin_client.get(url).context["adminform"].form["opened_version"].value()
    assert opened == 1
    colleague = django_user_model.objects.create_user("colleague", is_staff=True)
    services.enrollment_update(enrollment=enrollment, user=colleague, via="api", notes="Theirs")

    stale = Enrollment.objects.get(pk=enrollment.pk)
    stale.version = opened
    response = admin_client.post(url, inline_data(stale, {}, notes="Mine", opened_version=opened))
    assert response.status_code == 200
    content = response.content.decode()
    assert "This enrollment was changed by colleague on" in content
    assert "(through api) after you opened this page (your version 1, now 2); nothing was saved" in content
    enrollment.refresh_from_db()
    assert (enrollment.notes, enrollment.version) == ("Theirs", 2)


def test_a_stale_answer_in_the_inline_is_refused(admin_client, admin_user):
    enrollment = EnrollmentFactory(status="letter_sent")
    url = reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk])
    data = inline_data(enrollment, {"hold_request": "yes"})
    hold = enrollment.certifications.get(requirement__code="hold_request")
    services.certification_update(certification=hold, user=admin_user, via="api", answer="no")
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "This certification was changed by admin on" in response.content.decode()
    hold.refresh_from_db()
    assert (hold.answer, hold.version) == ("no", 2)


def test_a_stale_jurisdiction_save_is_refused(admin_client):
    jurisdiction = JurisdictionFactory(name="Memphis", geoid="4748000")
    url = reverse("admin:jurisdictions_jurisdiction_change", args=[jurisdiction.pk])
    Jurisdiction.objects.filter(pk=jurisdiction.pk).update(version=2, ocd_id="ocd-division/country:us")
    data = {
        "name": "Memphis",
        "state": "TN",
        "kind": "city",
        "slug": jurisdiction.slug,
        "geoid": "4748001",
        "ocd_id": "",
        "opened_version": 1,
        "enrollments-TOTAL_FORMS": 0,
        "enrollments-INITIAL_FORMS": 0,
    }
    response = admin_client.post(url, data)
    assert "This jurisdiction was changed" in response.content.decode()
    jurisdiction.refresh_from_db()
    assert (jurisdiction.geoid, jurisdiction.version) == ("4748000", 2)
    assert admin_client.post(url, data | {"opened_version": 2}).status_code == 302
    jurisdiction.refresh_from_db()
    assert (jurisdiction.geoid, jurisdiction.ocd_id, jurisdiction.version) == ("4748001", "", 3)


def test_a_form_without_its_version_is_refused(admin_client):
    enrollment = EnrollmentFactory(status="pending")
    url = reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk])
    data = inline_data(enrollment, {}, notes="Mine")
    del data["opened_version"]
    response = admin_client.post(url, data)
    assert "The form lost its version; reload the page and try again." in response.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.notes == ""


def test_a_save_that_loses_the_race_for_the_lock_comes_back_with_the_reason(admin_client, monkeypatch):
    """The form check passed, but another write got the row first: the service refuses under lock."""
    enrollment = EnrollmentFactory(status="pending")
    url = reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk])
    real_lock = services.lock_for_update

    def lock_after_a_concurrent_write(obj, *, expected_version=None):
        if isinstance(obj, Enrollment):
            Enrollment.objects.filter(pk=obj.pk).update(version=9)
        return real_lock(obj, expected_version=expected_version)

    monkeypatch.setattr(services.enrollments, "lock_for_update", lock_after_a_concurrent_write)
    response = admin_client.post(url, inline_data(enrollment, {}, notes="Mine"), follow=True)
    assert "Nothing was saved: Enrollment “Town" in response.content.decode()
    enrollment.refresh_from_db()
    assert (enrollment.notes, enrollment.version) == ("", 1)


# -- actions -----------------------------------------------------------------------------------


def changelist_action(client, action, enrollments, **extra):
    return client.post(
        reverse("admin:jurisdictions_enrollment_changelist"),
        {"action": action, "_selected_action": [e.pk for e in enrollments], **extra},
        follow=True,
    )


def test_admit_action_admits_the_rows_that_pass_and_names_each_refused_row(admin_client, admin_user):
    ready = EnrollmentFactory(
        status="letter_sent", jurisdiction=JurisdictionFactory(name="Stockton", state="CA")
    )
    ready.certifications.update(answer="yes")
    missing = EnrollmentFactory(
        status="letter_sent",
        jurisdiction=JurisdictionFactory(name="Albuquerque", state="NM"),
        answers={"facility_access": "yes", "release_notice": "yes"},
    )
    response = changelist_action(admin_client, "admit", [ready, missing])
    content = response.content.decode()
    assert "Admitted as participating: 1 — Stockton, CA in psp." in content
    assert (
        "Refused Albuquerque, NM in psp: Status cannot be participating until every requirement is "
        f"answered yes; 1 requirement is not yet: “{HOLD}”." in content
    )
    assert dict(Enrollment.objects.values_list("jurisdiction__name", "status")) == {
        "Stockton": "participating",
        "Albuquerque": "letter_sent",
    }
    step = StatusChange.objects.get()
    assert (step.enrollment, step.changed_by, step.via) == (ready, admin_user, "admin")


def test_mark_letter_sent_asks_for_the_date_then_records_it(admin_client):
    pending = EnrollmentFactory(
        status="pending", jurisdiction=JurisdictionFactory(name="Baltimore", state="MD")
    )
    admitted = EnrollmentFactory(status="participating", jurisdiction=JurisdictionFactory(name="Memphis"))
    response = changelist_action(admin_client, "mark_letter_sent", [pending, admitted])
    assert response.status_code == 200
    assert response.templates[0].name == "admin/jurisdictions/enrollment/mark_letter_sent.html"
    assert not StatusChange.objects.exists()

    response = changelist_action(
        admin_client,
        "mark_letter_sent",
        [pending, admitted],
        apply="1",
        letter_sent_on="2017-08-03",
        response_due_on="2017-07-01",
    )
    assert "The response date is before the date the letter was sent." in response.content.decode()
    assert not StatusChange.objects.exists()

    response = changelist_action(
        admin_client,
        "mark_letter_sent",
        [pending, admitted],
        apply="1",
        letter_sent_on="2017-08-03",
        response_due_on="2017-08-18",
        note="Letter of 3 August",
    )
    content = response.content.decode()
    assert "Marked letter sent: 1 — Baltimore, MD in psp." in content
    assert "Refused Memphis, TN in psp: It is already participating" in content
    pending.refresh_from_db()
    assert (pending.status, str(pending.letter_sent_on), str(pending.response_due_on)) == (
        "letter_sent",
        "2017-08-03",
        "2017-08-18",
    )
    assert StatusChange.objects.get().note == "Letter of 3 August"


# -- history, revert and restore ---------------------------------------------------------------


def test_history_page_shows_each_change_with_user_door_and_before_after(admin_client, admin_user):
    enrollment = EnrollmentFactory(status="pending")
    services.enrollment_update(enrollment=enrollment, user=admin_user, via="api", notes="Letter expected")
    response = admin_client.get(reverse("admin:jurisdictions_enrollment_history", args=[enrollment.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "<td>api</td>" in content
    assert "<strong>Notes:</strong>  → Letter expected</li>" in content


def test_reverting_to_an_old_version_goes_through_the_rule_and_records_the_revert(admin_client, admin_user):
    enrollment = EnrollmentFactory(status="pending")
    services.enrollment_update(enrollment=enrollment, user=admin_user, via="api", notes="Wrong")
    first = enrollment.history.earliest()
    url = reverse("admin:jurisdictions_enrollment_simple_history", args=[enrollment.pk, first.history_id])
    form = admin_client.get(url).context["adminform"].form
    assert form["opened_version"].value() == 2  # the live row's version, not the old one's
    data = {name: form[name].value() or "" for name in form.fields}
    response = admin_client.post(url, data)
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert (enrollment.notes, enrollment.version) == ("", 3)
    latest = enrollment.history.latest()
    assert (latest.history_user, latest.history_via) == (admin_user, "admin")


def test_a_deleted_jurisdiction_is_listed_and_restored_with_its_enrollment(admin_client, admin_user):
    enrollment = EnrollmentFactory(
        status="letter_sent", jurisdiction=JurisdictionFactory(name="Stockton", state="CA")
    )
    jurisdiction = enrollment.jurisdiction
    delete_url = reverse("admin:jurisdictions_jurisdiction_delete", args=[jurisdiction.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not Jurisdiction.objects.exists()
    deletion = Jurisdiction.history.get(history_type="-")
    assert (deletion.history_user, deletion.history_via) == (admin_user, "admin")

    listing = admin_client.get(reverse("admin:jurisdictions_jurisdiction_deleted"))
    assert [r.id for r in listing.context["records"]] == [jurisdiction.pk]
    history = admin_client.get(reverse("admin:jurisdictions_jurisdiction_history", args=[jurisdiction.pk]))
    assert history.status_code == 200
    assert "Deleted" in history.content.decode()

    response = admin_client.post(
        reverse("admin:jurisdictions_jurisdiction_restore", args=[jurisdiction.pk]), follow=True
    )
    assert "Restored “Stockton, CA” with 4 records deleted with it." in response.content.decode()
    restored = Enrollment.objects.get()
    assert (restored.pk, restored.jurisdiction_id, restored.status) == (
        enrollment.pk,
        jurisdiction.pk,
        "letter_sent",
    )
    assert restored.certifications.count() == 3
    assert admin_client.get(reverse("admin:jurisdictions_jurisdiction_deleted")).context["records"] == []


def test_the_revert_page_of_a_deleted_record_points_to_restore(admin_client):
    source = SourceFactory()
    record = source.history.get()
    pk = source.pk
    source.delete()
    url = reverse("admin:jurisdictions_source_simple_history", args=[pk, record.history_id])
    response = admin_client.get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:jurisdictions_source_deleted")


def test_autocomplete_finds_jurisdictions_and_sources_for_the_enrollment_form(admin_client):
    JurisdictionFactory(name="Stockton", state="CA")
    SourceFactory(title="Letter to Stockton")
    url = reverse("admin:autocomplete")
    found = admin_client.get(
        url,
        {
            "app_label": "jurisdictions",
            "model_name": "enrollment",
            "field_name": "jurisdiction",
            "term": "Stock",
        },
    ).json()
    assert [r["text"] for r in found["results"]] == ["Stockton, CA"]
    found = admin_client.get(
        url,
        {"app_label": "jurisdictions", "model_name": "enrollment", "field_name": "source", "term": "Stock"},
    ).json()
    assert [r["text"] for r in found["results"]] == [
        "Letter to Stockton (U.S. Department of Justice, 2017-08-03)"
    ]


def test_enrollment_list_filters_by_program_and_status(admin_client):
    pending = EnrollmentFactory(status="pending")
    EnrollmentFactory(status="letter_sent")
    url = reverse("admin:jurisdictions_enrollment_changelist")
    response = admin_client.get(url, {"status__exact": "pending", "program__id__exact": pending.program_id})
    assert [e.pk for e in response.context["cl"].result_list] == [pending.pk]


def test_the_enrollment_history_also_shows_every_change_of_its_answers(admin_client, admin_user):
    enrollment = EnrollmentFactory(status="letter_sent")
    hold = enrollment.certifications.get(requirement__code="hold_request")
    services.certification_update(
        certification=hold, user=admin_user, via="api", answer="yes", citation="Order 5"
    )
    response = admin_client.get(reverse("admin:jurisdictions_enrollment_history", args=[enrollment.pk]))
    rows = [r for r in response.context["answer_history"] if r.requirement.code == "hold_request"]
    assert [(r.history_type, r.history_via, r.answer) for r in rows] == [
        ("~", "api", "yes"),
        ("+", "system", "unknown"),
    ]
    assert "<li><strong>answer:</strong> unknown → yes</li>" in response.content.decode()


# -- a status change's note and source (issue 19) ------------------------------------------------


def test_a_status_change_keeps_the_note_and_source_given_on_the_form(admin_client, admin_user):
    enrollment = EnrollmentFactory(status="pending", jurisdiction=JurisdictionFactory(name="Baltimore"))
    letter = SourceFactory(title="Letter to Baltimore")
    url = reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk])
    data = inline_data(
        enrollment,
        {},
        status="letter_sent",
        letter_sent_on="2017-08-03",
        source=letter.pk,
        no_source="",
        status_note="  Letter of 3 August, signed by the Acting Director.  ",
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    change = StatusChange.objects.get()
    assert (change.to_status, change.note, change.source, change.changed_by) == (
        "letter_sent",
        "Letter of 3 August, signed by the Acting Director.",
        letter,
        admin_user,
    )
    # Shown in the admin's status history and on the public page's timeline.
    assert "Letter of 3 August, signed by the Acting Director." in admin_client.get(url).content.decode()
    public = admin_client.get(enrollment.jurisdiction.get_absolute_url()).content.decode()
    assert "Letter of 3 August, signed by the Acting Director." in public
    assert "Letter to Baltimore" in public


def test_the_status_fields_come_together_on_the_form(admin_client):
    enrollment = EnrollmentFactory(status="pending")
    response = admin_client.get(reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk]))
    fieldsets = dict(response.context["adminform"].fieldsets)
    assert fieldsets["Status and its change"]["fields"] == [
        "status",
        "source",
        "no_source",
        "status_note",
        "correction_of",
        "correction_reason",
    ]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"source": "999999", "no_source": ""}, "source", "Select a valid choice."),
        ({"status_note": "n" * 2001}, "status_note", "at most 2000 characters (it has 2001)"),
        ({"status": "pending", "status_note": "Called the city."}, "status_note", "the status is unchanged"),
    ],
    ids=["a source that is no document", "a note over the limit", "a note without a status change"],
)
def test_a_bad_note_or_source_is_refused_on_its_field(admin_client, fields, field, message):
    enrollment = EnrollmentFactory(status="pending")
    url = reverse("admin:jurisdictions_enrollment_change", args=[enrollment.pk])
    data = inline_data(enrollment, {}, status="letter_sent", letter_sent_on="2017-08-03")
    data.update(fields)
    response = admin_client.post(url, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert message in errors[field][0]
    assert field in [line["anchor"].removeprefix("id_") for line in response.context["refusal"]]
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.version) == ("pending", 1)
    assert not StatusChange.objects.exists()


def test_a_new_enrollment_records_its_note_with_its_first_status(admin_client, psp):
    jurisdiction = JurisdictionFactory()
    response = admin_client.post(
        reverse("admin:jurisdictions_enrollment_add"),
        {
            "jurisdiction": jurisdiction.pk,
            "program": psp.pk,
            "status": "pending",
            "status_note": "Named by DOJ.",
        },
    )
    assert response.status_code == 302
    assert StatusChange.objects.get().note == "Named by DOJ."
