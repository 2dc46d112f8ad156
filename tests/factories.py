"""factory_boy factories: every test builds the data it needs (no JSON fixtures)."""

import datetime

import factory

from jurisdictions.models import (
    Certification,
    Enrollment,
    Jurisdiction,
    Program,
    Requirement,
    Source,
    StatusChange,
)


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    title = factory.Sequence(lambda n: f"Announcement {n}")
    publisher = "U.S. Department of Justice"
    url = factory.Sequence(lambda n: f"https://example.org/doc/{n}")
    published_on = datetime.date(2017, 8, 3)


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    slug = factory.Sequence(lambda n: f"program-{n}")
    name = factory.Sequence(lambda n: f"Program {n}")
    agency = "U.S. Department of Justice"
    launched_on = datetime.date(2017, 9, 1)


class RequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Requirement

    program = factory.SubFactory(ProgramFactory)
    code = factory.Sequence(lambda n: f"requirement_{n}")
    title = factory.Sequence(lambda n: f"Requirement {n}")
    text = "The full text of the requirement."
    order = factory.Sequence(lambda n: n)


class JurisdictionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Jurisdiction

    name = factory.Sequence(lambda n: f"Town {n}")
    state = "TN"
    kind = Jurisdiction.Kind.CITY
    slug = factory.LazyAttribute(lambda j: Jurisdiction.make_slug(j.name, j.state))


def psp():
    """The Public Safety Partnership, created by a data migration in every database."""
    return Program.objects.get(slug="psp")


class EnrollmentFactory(factory.django.DjangoModelFactory):
    """An enrollment with one answer per requirement of its program.

    Answers default to unknown, or to yes for a participating enrollment as the rule requires;
    `answers={"hold_request": "no"}` overrides some by requirement code.
    """

    class Meta:
        model = Enrollment
        skip_postgeneration_save = True

    jurisdiction = factory.SubFactory(JurisdictionFactory)
    program = factory.LazyFunction(psp)
    status = Enrollment.Status.PENDING

    @factory.post_generation
    def answers(obj, create, extracted, **kwargs):
        if not create:
            return
        default = (
            Certification.Answer.YES
            if obj.status == Enrollment.Status.PARTICIPATING
            else Certification.Answer.UNKNOWN
        )
        overrides = extracted or {}
        for requirement in obj.program.requirements.all():
            Certification.objects.create(
                enrollment=obj,
                requirement=requirement,
                answer=overrides.get(requirement.code, default),
                facility_operator="County sheriff"
                if overrides.get(requirement.code) == "not_applicable"
                else "",
            )


class StatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StatusChange

    enrollment = factory.SubFactory(EnrollmentFactory)
    from_status = ""
    to_status = factory.LazyAttribute(lambda c: c.enrollment.status)
    via = StatusChange.Via.SYSTEM


# --- Seed-like data (public site and browser tests) ------------------------------------------------

PSP_2017_JOINED = datetime.date(2017, 6, 20)
PSP_2017_LETTER = datetime.date(2017, 8, 3)
PSP_2017_DUE = datetime.date(2017, 8, 18)
# (name, state, Census GEOID, status, site type): the facts of data/psp_2017.csv, typed out here
# because tests never read that file.
PSP_2017_CITIES = [
    ("Albuquerque", "NM", "3502000", "letter_sent", ""),
    ("Baltimore", "MD", "2404000", "letter_sent", ""),
    ("Baton Rouge", "LA", "2205000", "participating", "diagnostic"),
    ("Birmingham", "AL", "0107000", "participating", "operations"),
    ("Buffalo", "NY", "3611000", "participating", "diagnostic"),
    ("Cincinnati", "OH", "3915000", "participating", "diagnostic"),
    ("Houston", "TX", "4835000", "participating", "diagnostic"),
    ("Indianapolis", "IN", "1836003", "participating", "operations"),
    ("Jackson", "TN", "4737640", "participating", "diagnostic"),
    ("Kansas City", "MO", "2938000", "participating", "diagnostic"),
    ("Lansing", "MI", "2646000", "participating", "diagnostic"),
    ("Memphis", "TN", "4748000", "participating", "operations"),
    ("San Bernardino", "CA", "0665000", "letter_sent", ""),
    ("Springfield", "IL", "1772000", "participating", "diagnostic"),
    ("Stockton", "CA", "0675000", "letter_sent", ""),
    ("Toledo", "OH", "3977000", "participating", "operations"),
]


def seed_psp_2017():
    """The seed's 16 PSP enrollments built with the factories, each with its first status change.

    Returns {slug: enrollment}.
    """
    source, _ = Source.objects.get_or_create(
        title="Sessions Takes Action Against Sanctuary Cities",
        url="",
        defaults={"publisher": "Breitbart"},
    )
    enrollments = {}
    for name, state, geoid, status, site_type in PSP_2017_CITIES:
        participating = status == Enrollment.Status.PARTICIPATING
        enrollment = EnrollmentFactory(
            jurisdiction=JurisdictionFactory(
                name=name,
                state=state,
                geoid=geoid,
                ocd_id=f"ocd-division/country:us/state:{state.lower()}/place:{name.lower().replace(' ', '_')}",
            ),
            status=status,
            site_type=site_type,
            joined_on=PSP_2017_JOINED if participating else None,
            letter_sent_on=None if participating else PSP_2017_LETTER,
            response_due_on=None if participating else PSP_2017_DUE,
            source=source,
        )
        StatusChangeFactory(
            enrollment=enrollment,
            effective_on=enrollment.status_since,
            via=StatusChange.Via.IMPORT,
            note="Imported from psp_2017.csv",
            source=source,
        )
        enrollments[enrollment.jurisdiction.slug] = enrollment
    return enrollments


class StaffUserFactory(factory.django.DjangoModelFactory):
    """A staff member; `groups=["Editor"]` or `groups=["Reviewer"]` gives the role (data migration)."""

    class Meta:
        model = "auth.User"
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    password = factory.django.Password("a-long-test-password")

    @factory.post_generation
    def groups(obj, create, extracted, **kwargs):
        if create and extracted:
            from django.contrib.auth.models import Group

            obj.groups.set(Group.objects.filter(name__in=extracted))
