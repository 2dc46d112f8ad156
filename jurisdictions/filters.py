"""The one FilterSet of jurisdictions, shared by the public list, the API and the CSV exports, and the
change feed's; what every FilterSet of the app shares is in filtersets.py.

Program, status and answer filters describe one enrollment together: `program=psp&status=participating`
means participating in the PSP, not participating in anything while also enrolled in the PSP.
"""

from collections import defaultdict

import django_filters
from django import forms
from django.db.models import Case, IntegerField, Min, Value, When
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from . import as_of as history
from .filtersets import FilterForm, StrictFilterSet, UtcIsoDateTimeFilter
from .models import (
    Certification,
    Enrollment,
    Jurisdiction,
    Program,
    Requirement,
    State,
    StatusChange,
    geoid_validator,
    ocd_id_validator,
)
from .translation import localized
from .widgets import AnswerSelects, EchoedText, GroupedCheckboxes, ValueCheckboxes

ANSWER_SEPARATOR = ":"
SEARCH_MAX_LENGTH = 100


def answer_choices():
    """`<requirement code>:<answer>` pairs, e.g. hold_request:no, grouped by requirement (its title):
    the form shows one control per requirement (widgets.AnswerSelects)."""
    requirements = Requirement.objects.select_related("program").order_by(
        "program__launched_on", "program_id", "order"
    )
    groups, seen = [], set()
    for requirement in requirements:
        if requirement.code in seen:  # a code shared by two programs is one control
            continue
        seen.add(requirement.code)
        prefix = f"{requirement.code}{ANSWER_SEPARATOR}"
        groups.append(
            (
                localized(requirement, "title").text,  # in the page's language (issue 19)
                [(f"{prefix}{answer}", label) for answer, label in Certification.Answer.choices],
            )
        )
    return groups


# Participating first, then letter sent, then pending (ordering=status).
STATUS_ORDER = [Enrollment.Status.PARTICIPATING, Enrollment.Status.LETTER_SENT, Enrollment.Status.PENDING]


def status_rank(standing=None):
    """The rank of an enrollment's status for `Min` over a jurisdiction's enrollments: today's
    status, or with `standing` ({enrollment id: as_of.Standing}) the status it had on that day
    (an enrollment that did not exist then ranks last)."""
    if standing is None:
        whens = [
            When(enrollments__status=status, then=Value(rank)) for rank, status in enumerate(STATUS_ORDER)
        ]
    else:
        ids = defaultdict(list)
        for pk, then in standing.items():
            ids[then.status].append(pk)
        whens = [
            When(enrollments__pk__in=sorted(ids[status]), then=Value(rank))
            for rank, status in enumerate(STATUS_ORDER)
            if ids[status]
        ]
    return Case(*whens, default=Value(len(STATUS_ORDER)), output_field=IntegerField())


class AsOfField(forms.CharField):
    """A past or present day, YYYY-MM-DD (`as_of.parse` says what is wrong otherwise)."""

    def to_python(self, value):
        value = super().to_python(value)
        return history.parse(value) if value else None


class AsOfFilter(django_filters.DateFilter):
    """Statuses and answers as they stood at the end of a day (applied in `filter_queryset`)."""

    field_class = AsOfField

    def filter(self, qs, value):
        return qs


class JurisdictionOrdering(django_filters.OrderingFilter):
    """Name, state, status (participating first) and last update; ties broken by name."""

    def filter(self, qs, value):
        value = [param for param in value or () if param.lstrip("-")]  # "ordering=," is no ordering
        if not value:
            return qs
        order = []
        for param in value:
            descending = param.startswith("-")
            name = param.lstrip("-")
            if name == "status":
                # As of a day, the statuses of that day (the ones the page shows), not today's.
                day = self.parent is not None and self.parent.as_of_day()
                qs = qs.annotate(status_rank=Min(status_rank(self.parent.standing() if day else None)))
                field = "status_rank"
            else:
                field = self.param_map[name]
            order.append(f"-{field}" if descending else field)
        return qs.order_by(*order, "name", "state", "pk")


class JurisdictionFilter(StrictFilterSet):
    search = django_filters.CharFilter(
        method="filter_search",
        label=_("Name contains"),
        max_length=SEARCH_MAX_LENGTH,
        widget=EchoedText(attrs={"type": "search", "autocomplete": "off"}, echo=SEARCH_MAX_LENGTH * 2),
        help_text=_("Part of the jurisdiction's name, e.g. spring (case does not matter)."),
    )
    state = django_filters.MultipleChoiceFilter(
        choices=State.choices,
        # A column of the jurisdiction itself: no join can repeat a row, so no DISTINCT (which
        # costs a sort of every column at 90,000 rows).
        distinct=False,
        label=_("State"),
        # Checkboxes, not a multi-select: no Ctrl/Cmd needed, so they work by touch (issue 19).
        widget=GroupedCheckboxes(
            groups=[
                (gettext_lazy("States"), None),
                (
                    gettext_lazy("District of Columbia and territories"),
                    [State.DC, State.AS, State.GU, State.MP, State.PR, State.VI],
                ),
            ]
        ),
        help_text=_("USPS code of the state or territory, e.g. TN; repeat for several."),
    )
    kind = django_filters.MultipleChoiceFilter(
        choices=Jurisdiction.Kind.choices,
        distinct=False,
        label=_("Kind"),
        widget=ValueCheckboxes,
        help_text=_("Kind of jurisdiction; repeat for several."),
    )
    program = django_filters.ModelChoiceFilter(
        queryset=Program.objects.all(),
        to_field_name="slug",
        method="filter_enrollment",
        empty_label=_("Any program"),
        label=_("Program"),
        help_text=_("Program slug, e.g. psp; status and answer filters then apply to that program."),
    )
    status = django_filters.MultipleChoiceFilter(
        choices=Enrollment.Status.choices,
        method="filter_enrollment",
        label=_("Status"),
        widget=ValueCheckboxes,
        help_text=_("Status in a program; repeat for several (any of them matches)."),
    )
    answer = django_filters.MultipleChoiceFilter(
        choices=answer_choices,
        method="filter_enrollment",
        conjoined=True,
        label=_("Answer to a requirement"),
        widget=AnswerSelects,
        help_text=_(
            "A requirement code and an answer, e.g. hold_request:no; repeat for several "
            "(all of them must hold)."
        ),
    )
    updated_since = UtcIsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        label=_("Updated since"),
        widget=EchoedText(attrs={"inputmode": "numeric", "autocomplete": "off"}, echo=40),
        help_text=_(
            "ISO 8601 date-time, e.g. 2017-08-01T00:00:00Z: only jurisdictions whose record, "
            "enrollments or answers changed at or after it."
        ),
    )
    # Lookup by the identifiers the tracker publishes (exact; a malformed one is a 400 naming it).
    geoid = django_filters.CharFilter(
        field_name="geoid",
        distinct=False,
        label=_("Census GEOID"),
        max_length=Jurisdiction._meta.get_field("geoid").max_length,
        validators=[geoid_validator],
        widget=EchoedText(attrs={"inputmode": "numeric", "autocomplete": "off"}, echo=30),
        help_text=_("Exactly, with leading zeros, e.g. 4748000 (Memphis) or 47157 (Shelby County)."),
    )
    ocd_id = django_filters.CharFilter(
        field_name="ocd_id",
        distinct=False,
        label=_("OCD division id"),
        max_length=Jurisdiction._meta.get_field("ocd_id").max_length,
        validators=[ocd_id_validator],
        widget=EchoedText(attrs={"autocomplete": "off"}, echo=600),
        help_text=_("Exactly, e.g. ocd-division/country:us/state:tn/place:memphis."),
    )
    as_of = AsOfFilter(
        label=_("As of"),
        widget=EchoedText(
            attrs={"inputmode": "numeric", "autocomplete": "off", "placeholder": "YYYY-MM-DD"}, echo=40
        ),
        help_text=_(
            "A day, YYYY-MM-DD (today at most): statuses and answers as they stood at the end of "
            "that day, rebuilt from the history; jurisdictions not enrolled yet are left out."
        ),
    )
    ordering = JurisdictionOrdering(
        fields=(("name", "name"), ("state", "state"), ("status", "status"), ("updated_at", "updated_at")),
        field_labels={
            "name": _("Name (A to Z)"),
            "-name": _("Name (Z to A)"),
            "state": _("State (A to Z)"),
            "-state": _("State (Z to A)"),
            "status": _("Status (participating first)"),
            "-status": _("Status (pending first)"),
            "updated_at": _("Last update (oldest first)"),
            "-updated_at": _("Last update (newest first)"),
        },
        empty_label=None,
        label=_("Sort by"),
        help_text=_("name, state, status or updated_at; prefix with - for descending."),
    )

    class Meta:
        model = Jurisdiction
        fields = []
        form = FilterForm

    def filter_search(self, queryset, name, value):
        return queryset.filter(name__icontains=value.strip())

    def filter_enrollment(self, queryset, name, value: str | list[str]):
        # Applied together in filter_queryset so the conditions bind one enrollment.
        # (The hint tells drf-spectacular that these parameters are strings; without it the API
        # schema falls back to a guess and `spectacular --fail-on-warn` fails.)
        return queryset

    def as_of_day(self):
        """The day asked for, or None (the current record)."""
        return self.cleaned().get("as_of")

    def standing(self):
        """{enrollment id: as_of.Standing} of every enrollment on the day asked for."""
        if not hasattr(self, "_standing"):
            self._standing = history.statuses(self.cleaned()["as_of"])
        return self._standing

    def enrollment_conditions(self):
        data = self.cleaned()
        enrollments = Enrollment.objects.all()
        used = False
        if data.get("program"):
            enrollments = enrollments.filter(program=data["program"])
            used = True
        if data.get("as_of"):
            # The statuses and answers of that day, not today's; enrollments not there yet are out.
            wanted = set(data.get("status") or Enrollment.Status.values)
            ids = {pk for pk, s in self.standing().items() if s.status in wanted}
            if data.get("answer"):
                ids &= self._answered_then(ids, data["answer"], data["as_of"])
            return enrollments.filter(pk__in=sorted(ids))
        if data.get("status"):
            enrollments = enrollments.filter(status__in=data["status"])
            used = True
        for pair in data.get("answer") or []:
            code, _, answer = pair.partition(ANSWER_SEPARATOR)
            enrollments = enrollments.filter(
                pk__in=Certification.objects.filter(requirement__code=code, answer=answer).values(
                    "enrollment_id"
                )
            )
            used = True
        return enrollments if used else None

    @staticmethod
    def _answered_then(ids, pairs, day):
        """The enrollments of `ids` whose answers on `day` match every `<code>:<answer>` pair (an
        answer with no version counted yet on that day is unknown)."""
        codes = dict(Requirement.objects.values_list("id", "code"))
        then = {}
        for enrollment_id, requirement_id, answer, _version in history.answer_versions(
            day, enrollment_ids=ids
        ).values():
            then[(enrollment_id, codes[requirement_id])] = answer
        matching = set(ids)
        for pair in pairs:
            code, _, answer = pair.partition(ANSWER_SEPARATOR)
            matching = {pk for pk in matching if then.get((pk, code), Certification.Answer.UNKNOWN) == answer}
        return matching

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        enrollments = self.enrollment_conditions()
        if enrollments is not None:
            queryset = queryset.filter(pk__in=enrollments.values("jurisdiction_id"))
        return queryset

    def export_scope(self):
        """Which enrollments a CSV of the filtered list writes: those of the filtered program/status."""
        data = self.cleaned()
        return {
            "programs": [data["program"].slug] if data.get("program") else None,
            "statuses": list(data["status"]) if data.get("status") and not data.get("as_of") else None,
            "as_of": data.get("as_of"),
        }


# --- Change feed (API) ---------------------------------------------------------------------------


class StatusChangeFilter(StrictFilterSet):
    """Filters of the change feed; like JurisdictionFilter, an unknown parameter is an error."""

    since = UtcIsoDateTimeFilter(
        field_name="changed_at",
        lookup_expr="gte",
        label=_("Since"),
        help_text=_(
            "ISO 8601 date-time, e.g. 2017-08-01T00:00:00Z: only changes recorded at or after it. "
            "Poll with the changed_at of the newest change already seen (and skip ids already seen)."
        ),
    )
    program = django_filters.ModelChoiceFilter(
        queryset=Program.objects.all(),
        to_field_name="slug",
        field_name="enrollment__program",
        label=_("Program"),
        help_text=_("Program slug, e.g. psp: only changes in that program."),
    )
    jurisdiction = django_filters.ModelChoiceFilter(
        queryset=Jurisdiction.objects.all(),
        to_field_name="slug",
        field_name="enrollment__jurisdiction",
        label=_("Jurisdiction"),
        help_text=_("Jurisdiction slug, e.g. memphis-tn: only changes of that jurisdiction."),
    )

    class Meta:
        model = StatusChange
        fields = []
