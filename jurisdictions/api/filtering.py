"""The API's filter backend: django-filter's, with one difference in what an error is.

A filter that names a record (`program`, `jurisdiction`: a slug) is well formed whatever the slug,
so a slug that names no record is a 404 naming the parameter (like a page past the end), not a
400: the schema types the parameter as a string, and only the database knows which slugs exist.
Every other refused value is still a 400 naming its parameter.
"""

import re

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation

from .pagination import NotFoundNaming

WELL_FORMED_ANSWER = re.compile(r"^[-a-zA-Z0-9_]+:(yes|no|not_applicable|unknown)$")


def unknown_references(filterset):
    """(name, message) of each record-naming filter whose value names no record; None when any
    other error is present too (then the 400 reports everything). `answer=<code>:<answer>` names a
    requirement by its code: a well-formed pair with an unknown code is such a reference."""
    found = []
    for name, errors in filterset.errors.items():
        declared = filterset.filters.get(name)
        codes = {error.code for error in errors.as_data()}
        if codes != {"invalid_choice"}:
            return None
        if isinstance(declared, django_filters.ModelChoiceFilter):
            found.append((name, f"No {name} has the slug “{filterset.data.get(name)}”."))
        elif name == "answer":
            valid = {value for _, group in declared.field.choices for value, _ in group}
            wrong = [value for value in filterset.data.getlist(name) if value not in valid]
            if not wrong or not all(WELL_FORMED_ANSWER.match(value) for value in wrong):
                return None
            code = wrong[0].partition(":")[0]
            found.append((name, f"No requirement has the code “{code}”."))
        else:
            return None
    return found


def checked(filterset):
    """The filterset, valid; else the 404 or 400 that names what was refused."""
    if filterset.is_valid():
        return filterset
    missing = unknown_references(filterset)
    if missing:
        name, message = missing[0]
        raise NotFoundNaming(name, message)
    raise translate_validation(filterset.errors)


class ApiFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        return checked(filterset).qs
