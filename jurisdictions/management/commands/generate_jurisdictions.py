"""Synthetic jurisdictions for measuring the tracker at national scale (about 90,000 local governments).

Every generated record is marked as synthetic three ways, so it can never pass for real data:
the name starts with "Synthetic", the slug with "synthetic-", the GEOID with 99 (no state has that
FIPS code), and every enrollment and status change cites the source titled SYNTHETIC_SOURCE_TITLE.
The command refuses to add to a database that holds real (non-synthetic) jurisdictions unless
--force is given.

With --from-geography the jurisdictions are real reference places (geography app, loaded by
`load_geography`: counties and places above 15,000 people, most populous first) with their points,
so that the map shows real places; their enrollments are as synthetic as ever, and they keep the
marks: the name ends with " (synthetic)", the slug starts with "synthetic-", the GEOID with 99.

Rows are written by the importer's bulk writer (`db.bulk`, which copies in bulk on PostgreSQL and uses bulk_create
elsewhere), without simple-history records (nothing was ever edited). The decisions are the
services': the participating rule holds for every enrollment (checked), the timeline's rows are
built by `services.status_change_values`, and `services.data_written` moves the data version on.
"""

import datetime
import random

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import ngettext

from jurisdictions import services
from jurisdictions.db import stats
from jurisdictions.db.bulk import create_objects
from jurisdictions.models import (
    Certification,
    Enrollment,
    Jurisdiction,
    Program,
    Source,
    State,
    StatusChange,
)
from jurisdictions.transfer.apply import BULK_MODELS

SYNTHETIC_SLUG_PREFIX = "synthetic-"
SYNTHETIC_NAME_PREFIX = "Synthetic "
SYNTHETIC_NAME_SUFFIX = " (synthetic)"  # a real place's name, with --from-geography
SYNTHETIC_GEOID_PREFIX = "99"
SYNTHETIC_SOURCE_TITLE = "Synthetic data made by generate_jurisdictions (not real)"
SYNTHETIC_SOURCE_URL = "https://example.org/synthetic"

TERRITORIES = {"AS", "GU", "MP", "PR", "VI"}
FIRST = [
    "Oak", "Cedar", "Maple", "Pine", "River", "Lake", "Spring", "Fair", "Green", "Clear", "Rock",
    "Elm", "Ash", "Willow", "Mill", "Fox", "Bear", "Eagle", "Silver", "Stone", "Red", "White",
    "Black", "North", "South", "East", "West", "Pleasant", "Mount", "Glen", "Sandy", "Walnut",
]  # fmt: skip
SECOND = [
    "field", "ville", "ton", "wood", "dale", "port", "burg", "view", "ridge", "haven", "brook",
    "ford", "creek", " Hill", " Falls", " Springs", " Grove", " Park", " Valley", " Heights",
]  # fmt: skip
OTHER_KINDS = ["Township", "Village", "Borough", "Fire District", "Water District", "School District"]
OPERATORS = ["County sheriff", "State department of corrections", "Regional jail authority"]


def is_synthetic_slug(slug):
    return slug.startswith(SYNTHETIC_SLUG_PREFIX)


class Command(BaseCommand):
    help = (
        "Create COUNT synthetic jurisdictions (all states and kinds, with enrollments, answers, sources "
        "and status histories), clearly marked as synthetic, for benchmarks. Refused on a database "
        "holding real jurisdictions unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True, help="Number of jurisdictions to create.")
        parser.add_argument("--seed", type=int, default=2017, help="Random seed (same seed, same data).")
        parser.add_argument("--program", default="psp", help="Slug of the program to enroll them in.")
        parser.add_argument(
            "--from-geography",
            action="store_true",
            help="Enroll real reference places (run load_geography first) instead of made-up names.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Add synthetic rows even though the database holds real jurisdictions.",
        )

    def handle(self, *args, count, seed, program, force, from_geography=False, **options):
        if count < 1:
            raise CommandError("--count must be at least 1.")
        try:
            program = Program.objects.get(slug=program)
        except Program.DoesNotExist:
            raise CommandError(f"No program with the slug “{program}”.") from None
        real = Jurisdiction.objects.exclude(slug__startswith=SYNTHETIC_SLUG_PREFIX).count()
        if real and not force:
            raise CommandError(
                ngettext(
                    "This database holds %(count)d real (non-synthetic) jurisdiction; synthetic data "
                    "would mix with it. Use an empty database, or --force to add it anyway.",
                    "This database holds %(count)d real (non-synthetic) jurisdictions; synthetic data "
                    "would mix with them. Use an empty database, or --force to add it anyway.",
                    real,
                )
                % {"count": real}
            )
        places = None
        if from_geography:
            places = reference_places(count)
            if len(places) < count:
                raise CommandError(
                    f"--from-geography has {len(places)} reference places with a location; ask for at "
                    "most that many (or run load_geography first)."
                )
        started = timezone.now()
        with transaction.atomic():
            totals = generate(count=count, seed=seed, program=program, places=places)
            stats.analyze(BULK_MODELS)  # the planner's statistics, before anyone reads the new rows
            services.data_written()
        seconds = (timezone.now() - started).total_seconds()
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {totals['jurisdictions']} synthetic jurisdictions, {totals['enrollments']} "
                f"enrollments, {totals['certifications']} answers and {totals['status_changes']} status "
                f"changes in {seconds:.1f} s."
            )
        )


def _sources(rng, now):
    """The marker source (cited by every status change) and a few dozen others."""
    marker, _ = Source.objects.get_or_create(
        title=SYNTHETIC_SOURCE_TITLE,
        url=SYNTHETIC_SOURCE_URL,
        defaults={"publisher": "PSP Tracker benchmark", "published_on": now.date()},
    )
    wanted = [
        Source(
            title=f"Synthetic notice {i} (not real)",
            url=f"{SYNTHETIC_SOURCE_URL}/notice/{i}",
            publisher="Synthetic publisher",
            published_on=datetime.date(2017, 6, 1) + datetime.timedelta(days=rng.randrange(3000)),
        )
        for i in range(1, 41)
    ]
    existing = {(s.title, s.url): s for s in Source.objects.filter(url__startswith=SYNTHETIC_SOURCE_URL)}
    missing = [s for s in wanted if (s.title, s.url) not in existing]
    Source.objects.bulk_create(missing)
    return marker, [existing.get((s.title, s.url), s) for s in wanted]


def reference_places(count):
    """Up to `count` reference places with a point, most populous first (counties after cities)."""
    from geography.models import Place

    # "city" sorts before "county"; cities by population.
    located = Place.objects.located().select_related("state")
    return list(located.order_by("kind", "-population", "name", "pk")[:count])


def generate(*, count, seed, program, places=None):
    rng = random.Random(seed)
    now = timezone.now()
    requirements = list(program.requirements.order_by("order", "code"))
    marker, sources = _sources(rng, now)

    # Numbers continue after any earlier synthetic rows, so slugs and GEOIDs stay unique.
    last = (
        Jurisdiction.objects.filter(geoid__startswith=SYNTHETIC_GEOID_PREFIX)
        .order_by("-geoid")
        .values_list("geoid", flat=True)
        .first()
    )
    start = int(last[len(SYNTHETIC_GEOID_PREFIX) :]) + 1 if last else 1

    states = list(State.values)
    # The first rows cover every state with every kind that fits it, then kinds follow a rough mix.
    combos = [(s, k) for s in states for k in ("city", "county", "other")]
    combos += [(s, "territory" if s in TERRITORIES else "state") for s in states]
    kinds, weights = ["city", "county", "other"], [55, 12, 33]

    jurisdictions = []
    for i in range(count):
        n = start + i
        if places is not None:
            place = places[i]
            name, state, kind = (
                f"{place.name}{SYNTHETIC_NAME_SUFFIX}",
                place.state.usps,
                place.jurisdiction_kind,
            )
            jurisdictions.append(
                Jurisdiction(
                    name=name,
                    state=state,
                    kind=kind,
                    slug=SYNTHETIC_SLUG_PREFIX + Jurisdiction.make_slug(f"{place.name} {n}", state),
                    geoid=f"{SYNTHETIC_GEOID_PREFIX}{n:010d}",
                    ocd_id=f"ocd-division/country:us/state:{state.lower()}/place:synthetic_{n}",
                    place=place,
                    latitude=place.latitude,
                    longitude=place.longitude,
                )
            )
            continue
        if i < len(combos):
            state, kind = combos[i]
        else:
            state, kind = rng.choice(states), rng.choices(kinds, weights)[0]
        base = rng.choice(FIRST) + rng.choice(SECOND)
        label = {
            "city": base,
            "county": f"{base} County",
            "other": f"{base} {rng.choice(OTHER_KINDS)}",
            "state": f"{base} State Government",
            "territory": f"{base} Territorial Government",
        }[kind]
        name = f"{SYNTHETIC_NAME_PREFIX}{label} {n}"
        jurisdictions.append(
            Jurisdiction(
                name=name,
                state=state,
                kind=kind,
                slug=Jurisdiction.make_slug(name, state),
                geoid=f"{SYNTHETIC_GEOID_PREFIX}{n:010d}",
                ocd_id=f"ocd-division/country:us/state:{state.lower()}/place:synthetic_{n}",
            )
        )
    create_objects(jurisdictions, Jurisdiction, now=now)

    enrollments, plans = [], []
    statuses = [Enrollment.Status.PENDING, Enrollment.Status.LETTER_SENT, Enrollment.Status.PARTICIPATING]
    for j in jurisdictions:
        if rng.random() < 0.15:
            continue  # not every jurisdiction is enrolled
        status = rng.choices(statuses, [55, 30, 15])[0]
        letter = datetime.date(2017, 6, 20) + datetime.timedelta(days=rng.randrange(3000))
        e = Enrollment(
            jurisdiction_id=j.pk,
            program=program,
            status=status,
            source=rng.choice(sources) if rng.random() < 0.7 else marker,
            notes="Synthetic enrollment for benchmarks." if rng.random() < 0.1 else "",
        )
        if status != Enrollment.Status.PENDING:
            e.letter_sent_on = letter
            e.response_due_on = letter + datetime.timedelta(days=15)
        if status == Enrollment.Status.PARTICIPATING:
            e.joined_on = letter + datetime.timedelta(days=rng.randrange(1, 60))
            e.site_type = rng.choice(Enrollment.SiteType.values)
        enrollments.append(e)
        plans.append(letter)
    create_objects(enrollments, Enrollment, now=now)

    answers, steps = [], []
    answer_mix = {
        Enrollment.Status.PENDING: (["unknown", "yes", "no"], [80, 12, 8]),
        Enrollment.Status.LETTER_SENT: (["yes", "no", "unknown", "not_applicable"], [45, 25, 20, 10]),
    }
    for e, letter in zip(enrollments, plans, strict=True):
        for r in requirements:
            if e.status == Enrollment.Status.PARTICIPATING:
                answer = "yes"
            else:
                answer = rng.choices(*answer_mix[e.status])[0]
            c = Certification(enrollment_id=e.pk, requirement_id=r.pk, answer=answer)
            if answer == "not_applicable":
                c.facility_operator = rng.choice(OPERATORS)
            if answer == "yes" and rng.random() < 0.3:
                c.legal_basis = rng.choice(Certification.LegalBasis.values)
                c.citation = f"Synthetic code § {rng.randrange(1, 999)}"
                c.source = rng.choice(sources)
            answers.append(c)
        rule = services.participation_errors(
            status=e.status,
            requirements=requirements,
            answers={c.requirement_id: c.answer for c in answers[-len(requirements) :]},
        )
        assert not rule, rule  # the mix above answers yes to everything a participant must
        # The timeline: created pending, then each step the status went through.
        path = {"pending": ["pending"], "letter_sent": ["pending", "letter_sent"]}.get(
            e.status, ["pending", "letter_sent", "participating"]
        )
        when = datetime.datetime.combine(letter, datetime.time(12), tzinfo=datetime.UTC)
        previous = ""
        for step, status in enumerate(path):
            steps.append(
                StatusChange(
                    **services.status_change_values(
                        enrollment=e,
                        from_status=previous,
                        to_status=status,
                        via=StatusChange.Via.SYSTEM,
                        note="Synthetic history.",
                        source_id=marker.pk,
                        changed_at=when + datetime.timedelta(days=20 * step - 10),
                    )
                )
            )
            previous = status
    create_objects(answers, Certification, now=now)
    create_objects(steps, StatusChange, now=now)
    return {
        "jurisdictions": len(jurisdictions),
        "enrollments": len(enrollments),
        "certifications": len(answers),
        "status_changes": len(steps),
    }
