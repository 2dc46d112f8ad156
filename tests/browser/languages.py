"""The languages the public site is served in, and each one's URL prefix (issue 19).

English stays at /, Spanish is under /es/ once Django's LocaleMiddleware is installed; until then
the site is English only and the Spanish runs are left out rather than failing on a 404.
"""

from django.conf import settings


def public_languages():
    if "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE:
        return ["en", "es"]
    return ["en"]


def prefix(language):
    """The path prefix of a language: "" for English (the default), "/es" for Spanish."""
    return "" if language == "en" else f"/{language}"
