"""What every FilterSet of this app shares: unknown parameters refused (`StrictFilterSet`), empty
values dropped, declared filters and form fields copied cheaply, the key a count is kept under, and
the field and filter of an ISO 8601 date-time in UTC. The FilterSets themselves are in filters.py.
"""

import copy
import datetime
from urllib.parse import urlencode

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

# Query parameters that are not filters but are understood by the list views.
NON_FILTER_PARAMS = frozenset({"page", "page_size", "format", "cursor"})


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


def repeated_params(data, multi_valued=frozenset()):
    """The names in a query given more than once that take one value. Left alone, a repeated
    `page_size` or `search` would be read as its last value: the schema types them as one value,
    so more than one is refused, naming the parameter."""
    if not hasattr(data, "getlist"):
        return []
    return sorted(name for name in data if name not in multi_valued and len(data.getlist(name)) > 1)


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
            self.is_bound
            and not self.unknown_params
            and not self.repeated_params
            and not any(name in self.filters for name in self.data)
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
        unknown = set(self.unknown_params)
        self.repeated_params = [
            name for name in repeated_params(data, self.multi_valued()) if name not in unknown
        ]

    @classmethod
    def multi_valued(cls):
        """The filters that take a parameter more than once (`state=CA&state=TX`): those whose form
        control is a multiple choice. Read once per class from the declared filters."""
        names = cls.__dict__.get("_multi_valued")
        if names is None:
            names = frozenset(
                name
                for name, declared in cls.base_filters.items()
                # The declared widget (a class or an instance), not `declared.field`: building the
                # field would store it on the filter every FilterSet copies.
                if getattr(
                    declared.extra.get("widget", declared.field_class.widget),
                    "allow_multiple_selected",
                    False,
                )
            )
            cls._multi_valued = names
        return names

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
        for name in self.repeated_params:
            self.form.errors.setdefault(name, self.form.error_class()).data[:] = [
                forms.ValidationError(
                    _("“%(name)s” was given more than once; it takes one value."),
                    code="repeated_parameter",
                    params={"name": name},
                )
            ]
        return valid and not self.unknown_params and not self.repeated_params


class FilterForm(forms.Form):
    """The form of a FilterSet shown on a page: labels without Django's trailing colon, like the
    legends of the grouped controls."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
