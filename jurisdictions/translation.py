"""Issue 19: which words of a program and its requirements staff translate, and which text a page
shows in its language.

An explicit design rather than django-modeltranslation's field descriptors: each translated field
has a `<field>_es` column beside it (blank until staff fill it), and the English field keeps its
meaning everywhere else (the API, the CSV, the importer, the services read and write only it). A
page in Spanish shows the Spanish, marked as an unofficial translation, with the official English
wording verbatim beside it; with no Spanish yet it shows the English, marked as English.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import get_language

# model label: the fields whose Spanish lives in `<field>_es`.
TRANSLATED_FIELDS = {
    "jurisdictions.Program": ("name", "description"),
    "jurisdictions.Requirement": ("title", "text"),
}
TRANSLATED_LANGUAGES = ("es",)


@dataclass(frozen=True)
class Localized:
    text: str  # what to show
    lang: str  # the language of `text`
    official: str  # the English wording, verbatim
    translated: bool  # `text` is a translation (not the official English)


def localized(obj, field, language=None):
    """The text of `obj.<field>` in `language` (the active one by default), English as fallback."""
    official = getattr(obj, field)
    language = (language or get_language() or settings.LANGUAGE_CODE).split("-")[0]
    if language in TRANSLATED_LANGUAGES:
        text = getattr(obj, f"{field}_{language}", "")
        if text:
            return Localized(text=text, lang=language, official=official, translated=True)
    return Localized(text=official, lang=settings.LANGUAGE_CODE, official=official, translated=False)
