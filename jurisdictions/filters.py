"""The one FilterSet of jurisdictions, shared by the public list, the API and the CSV exports.

Program, status and answer filters describe one enrollment together: `program=psp&status=participating`
means participating in the PSP, not participating in anything while also enrolled in the PSP.
"""

import copy
import datetime
from urllib.parse import urlencode

import django_filters
from django import forms
from django.db.models import Case, IntegerField, Min, Value, When
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

from . import as_of as history
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
# Query parameters that are not filters but are understood by the list views.
NON_FILTER_PARAMS = frozenset({"page", "page_size", "format", "cursor"})


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


STATUS_RANK = Case(
    When(enrollments__status=Enrollment.Status.PARTICIPATING, then=Value(0)),
    When(enrollments__status=Enrollment.Status.LETTER_SENT, then=Value(1)),
    When(enrollments__status=Enrollment.Status.PENDING, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, converted to UTC here.

    The database then never sees an offset it refuses (PostgreSQL stops at ±15:59, ISO 8601 does
    not), and a date that falls off the calendar in UTC is a 400 naming the parameter, not a 500.
    """

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(datetime.timezone.utc)
        except OverflowError:
            raise forms.ValidationError(
                _("“%(value)s” is outside the range of dates (years 1 to 9999 in UTC)."),
                code="out_of_range",
                params={"value": value},
            ) from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


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
                qs = qs.annotate(status_rank=Min(STATUS_RANK))
                field = "status_rank"
            else:
                field = self.param_map[name]
            order.append(f"-{field}" if descending else field)
        return qs.order_by(*order, "name", "state", "pk")


class _Filters(dict):
    """The declared filters of a FilterSet class, copied cheaply for each FilterSet built.

    django-filter deep-copies them for every FilterSet, down to each choice of every filter (the 56
    states), and builds a new form class from them: together more than half of the 0.9 ms an
    unfiltered list spent on filtering. What each FilterSet must own is each filter's attributes
    (parent, model, field, the FilterMethod that calls the parent's method); the choices and
    querysets the filters were declared with are only read, so they are shared.
    """

    def __deepcopy__(self, memo):
        return {name: _copy_filter(declared) for name, declared in self.items()}


def _copy_filter(declared):
    instance = copy.copy(declared)
    instance.__dict__.pop("_field", None)
    instance.extra = dict(declared.extra)  # ModelChoiceFilter.field writes its queryset into it
    if declared.method is not None:
        instance.method = declared.method  # binds the FilterMethod to this copy, not the declared one
    return instance


class _Fields(dict):
    """The fields of a filter form, copied for each form without deep-copying what they were
    declared with. A Django form deep-copies its fields, down to every choice (the 56 states, the
    answers): a third of an unfiltered API list's filtering. Each form still gets its own fields and
    widgets (their attributes may be set per form); choices are only read, so they are shared. A
    model choice field copies as Django copies it, so that its queryset is read afresh."""

    def __deepcopy__(self, memo):
        return {name: _copy_field(field, memo) for name, field in self.items()}


def _copy_field(field, memo):
    if isinstance(field, forms.ModelChoiceField):
        return copy.deepcopy(field, memo)
    result = copy.copy(field)
    result.widget = copy.copy(field.widget)
    result.widget.attrs = dict(field.widget.attrs)
    result.validators = list(field.validators)
    return result


def without_empty_values(data, filters):
    """The query with a filter's empty values dropped: a form control left at "any" sends
    `state=` (or blank text), which means no filter, for the page and the API alike."""
    if not hasattr(data, "getlist"):
        return data
    kept = data.copy()
    for name in filters:
        if name in kept:
            # Exactly empty, or blank text: " " for a date-time or a choice is a value, refused.
            text = type(filters[name]) is django_filters.CharFilter
            values = [value for value in kept.getlist(name) if (value.strip() if text else value != "")]
            if values:
                kept.setlist(name, values)
            else:
                del kept[name]
    return kept


def count_key(filterset_class, data):
    """What the number of rows a FilterSet matches depends on: its class and its filters' values,
    not the ordering nor the page. db/paging.py keeps the count under it (and the data version)."""
    filters = filterset_class.base_filters
    data = without_empty_values(data, filters)
    pairs = sorted(
        (name, value)
        for name in data
        if name in filters and not isinstance(filters[name], django_filters.OrderingFilter)
        for value in data.getlist(name)
    )
    return f"{filterset_class.__name__}?{urlencode(pairs)}"


class StrictFilterSet(django_filters.FilterSet):
    """A FilterSet that refuses parameters it does not know, so a typo never returns everything."""

    @classmethod
    def get_filters(cls):
        return _Filters(super().get_filters())

    def get_form_class(self):
        # The form's fields depend on the class alone (no filter here reads the request; choices
        # from the database, programs and answers, are read when a form validates), so the class is
        # built once, and each form copies its fields without their declared choices (_Fields).
        form_class = type(self).__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            form_class.base_fields = _Fields(form_class.base_fields)
            type(self)._form_class = form_class
        return form_class

    def filters_nothing(self):
        """True when the query names no filter (only pages, formats or nothing): the list is the
        whole queryset, so no form is built or validated (about half a millisecond a request)."""
        return (
            self.is_bound and not self.unknown_params and not any(name in self.filters for name in self.data)
        )

    def cleaned(self):
        """The filters' cleaned values: {} when the query names none, or when it is invalid."""
        if not self.is_bound or self.filters_nothing() or not self.is_valid():
            return {}
        return self.form.cleaned_data

    @property
    def qs(self):
        if self.filters_nothing():
            return self.queryset.all()
        return super().qs

    def __init__(self, data=None, *args, **kwargs):
        if data is not None:
            data = without_empty_values(data, self.base_filters)
        super().__init__(data, *args, **kwargs)
        self.unknown_params = sorted(set(data or {}) - set(self.filters) - NON_FILTER_PARAMS)

    def count_key(self):
        """What the number of matching rows depends on (see `count_key`)."""
        return count_key(type(self), self.data or {})

    def is_valid(self):
        if self.filters_nothing():
            return True
        valid = super().is_valid()
        known = ", ".join(sorted(set(self.filters) | NON_FILTER_PARAMS))
        for name in self.unknown_params:
            # Keyed by the parameter itself so an API client sees which one was not understood.
            self.form.errors.setdefault(name, self.form.error_class()).data[:] = [
                forms.ValidationError(
                    # Values go in params, never into the message itself: a name such as "x%"
                    # would otherwise break the %-formatting that error rendering applies.
                    _("Unknown parameter “%(name)s”. Known parameters: %(known)s."),
                    code="unknown_parameter",
                    params={"name": name, "known": known},
                )
            ]
        return valid and not self.unknown_params


class FilterForm(forms.Form):
    """The form of a FilterSet shown on a page: labels without Django's trailing colon, like the
    legends of the grouped controls."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


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
