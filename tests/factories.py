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
