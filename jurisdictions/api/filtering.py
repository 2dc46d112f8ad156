"""The API's filter backend: django-filter's, with one difference in what an error is.

A filter that names a record (`program`, `jurisdiction`: a slug) is well formed whatever the slug,
so a slug that names no record is a 404 naming the parameter (like a page past the end), not a
400: the schema types the parameter as a string, and only the database knows which slugs exist.
Every other refused value is still a 400 naming its parameter.
"""

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation

from .pagination import NotFoundNaming


def unknown_references(filterset):
    """(name, message) of each record-naming filter whose value names no record; None when any
    other error is present too (then the 400 reports everything)."""
    found = []
    for name, errors in filterset.errors.items():
        declared = filterset.filters.get(name)
        codes = {error.code for error in errors.as_data()}
        if not isinstance(declared, django_filters.ModelChoiceFilter) or codes != {"invalid_choice"}:
            return None
        found.append((name, f"No {name} has the slug “{filterset.data.get(name)}”."))
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
