"""Issue 19: the Spanish pages are in Spanish. On the seeded data, every text a reader sees on
/es/... (text, titles, labels read aloud) differs from the English page's, except data values (names,
documents, codes, numbers, dates) and the official English wording, which is marked lang="en"."""

import re
from html.parser import HTMLParser

import pytest

from jurisdictions.models import (
    Certification,
    Jurisdiction,
    Program,
    Requirement,
    Source,
    State,
    StatusChange,
)
from tests.factories_citations import load_seed

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/jurisdictions/",
    "/jurisdictions/memphis-tn/",
    "/jurisdictions/?state=AK",  # a filtered list with no result
    "/jurisdictions/memphis-tn/?as_of=2017-07-01",  # the record as of a day, with its banner
    "/programs/psp/",
    "/embed/jurisdictions/memphis-tn/",
    "/embed/programs/psp/",
    "/methodology/",
    "/corrections/",
    "/no-such-page/",
]
# Attributes whose words are read or shown to a reader (data-label: the list's cell labels, shown
# by the phone layout's CSS).
READ_ATTRIBUTES = ("aria-label", "title", "alt", "placeholder", "data-label")
# Words that are the same in both languages: names, acronyms, formats.
SAME_IN_BOTH = frozenset(
    {"PSP Tracker", "PSP", "RSS", "Atom", "CSV", "API", "JSON", "GeoJSON", "GEOID", "OCD", "DHS", "No"}
    | {"CC BY 4.0", "GeoNames", "us-atlas", "YYYY-MM-DD"}
)
NO_LETTERS = re.compile(r"^[\W\d_]*$")


class _Texts(HTMLParser):
    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, hidden) of the open elements
        self.texts = []

    def _hidden(self):
        return any(hidden for _, hidden in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        # Script and style are not text; the official English is marked lang="en" on purpose.
        hidden = tag in ("script", "style") or attrs.get("lang") == "en" and tag != "html"
        if not hidden and not self._hidden():
            for name in READ_ATTRIBUTES:
                if attrs.get(name):
                    self.texts.append(attrs[name])
        if tag not in self.VOID:
            self.stack.append((tag, hidden))

    def handle_endtag(self, tag):
        while self.stack:
            open_tag, _ = self.stack.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        if not self._hidden():
            self.texts.append(data)


def visible_texts(html):
    parser = _Texts()
    parser.feed(html)
    texts = (" ".join(t.split()) for t in parser.texts)
    return [t for t in texts if t and not NO_LETTERS.match(t)]


def allowed_data():
    """Data values, the same in any language: names, documents, codes."""
    values = set(SAME_IN_BOTH)
    for code, name in State.choices:
        values |= {code, name, f"{name} ({code})"}
    for jurisdiction in Jurisdiction.objects.all():
        values |= {
            jurisdiction.name,
            str(jurisdiction),
            jurisdiction.slug,
            jurisdiction.geoid,
            jurisdiction.ocd_id,
        }
        values.add(f"{jurisdiction.name}, {jurisdiction.get_state_display()}")
    for source in Source.objects.all():
        values |= {source.title, source.publisher, str(source), source.url, source.date_text, source.quote}
    for program in Program.objects.all():
        values |= {program.name, program.agency, program.slug}
    values |= set(Requirement.objects.values_list("code", flat=True))
    # Codes shown in <code>: answers, bases, parameters.
    values |= {*Certification.Answer.values, *Certification.Basis.values, "as_of"}
    for change in StatusChange.objects.all():
        values |= {change.note, change.correction_reason}
    return {" ".join(v.split()) for v in values if v}


def is_data(text, allowed):
    """Data values with punctuation around and between them ("Memphis, Tennessee · PSP Tracker",
    "Title (Publisher, 2017-08-03)"): nothing with letters is left once they are taken out."""
    pattern = re.compile(
        "|".join(rf"(?<!\w){re.escape(v)}(?!\w)" for v in sorted(allowed, key=len, reverse=True))
    )
    return bool(NO_LETTERS.match(pattern.sub("", text)))


def _untranslated(client, path, allowed):
    english = set(visible_texts(client.get(path).content.decode()))
    spanish = client.get("/es" + path)
    assert spanish.status_code == (404 if "no-such" in path else 200)
    assert '<html lang="es">' in spanish.content.decode()
    return sorted(
        {t for t in visible_texts(spanish.content.decode()) if t in english and not is_data(t, allowed)}
    )


@pytest.fixture
def seeded(db):
    load_seed()
    return allowed_data()


@pytest.mark.parametrize("path", PAGES)
def test_the_spanish_page_has_no_english_text_left(client, seeded, path):
    assert _untranslated(client, path, seeded) == []


def test_the_check_sees_english_left_on_a_spanish_page(client, seeded, settings):
    """The check itself: with the catalogue switched off, the Spanish page is English and fails."""
    settings.LOCALE_PATHS = []
    from django.utils.translation import trans_real

    trans_real._translations = {}
    try:
        left = _untranslated(client, "/methodology/", seeded)
    finally:
        trans_real._translations = {}
    assert "Methodology" in left and "Statuses" in left
