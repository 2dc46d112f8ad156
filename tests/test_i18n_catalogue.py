"""Issue 19: the Spanish catalogue is complete, up to date with the code, and compiled.

- every entry is translated, none fuzzy, every plural form filled, the same placeholders as the English;
- `makemessages` run on a copy of the project finds no message the committed catalogue lacks (and
  the catalogue keeps none the code no longer uses);
- the committed .mo says exactly what the .po says (read with polib: no gettext tool needed to
  serve the site; `make messages` rebuilds both).
"""

import re
import shutil
import subprocess
import sys

import polib
import pytest
from django.conf import settings

PO = settings.BASE_DIR / "locale" / "es" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")
# The same flags as `make messages`.
MAKEMESSAGES = ["makemessages", "-l", "es", "--no-location", "-i", ".venv/*", "-i", "staticfiles/*"]
MAKEMESSAGES += ["-i", "tests/*", "-i", "locale/*"]
COPY_IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "staticfiles", "node_modules", "artifacts", "bench-results", "*.sqlite3", "__pycache__"
)


def key(entry):
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


def translations(entry):
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


@pytest.fixture(scope="module")
def catalogue():
    return polib.pofile(str(PO))


def test_every_message_is_translated_and_none_is_fuzzy(catalogue):
    assert len(catalogue) > 200
    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []
    assert not catalogue.metadata_is_fuzzy
    assert [e.msgid for e in catalogue if e.obsolete] == []
    for entry in catalogue:
        assert all(text.strip() for text in translations(entry)), entry.msgid
        if entry.msgid_plural:
            # Spanish has three forms in Django's catalogue (one, "millions", other).
            assert sorted(entry.msgstr_plural) == [0, 1, 2], entry.msgid


def test_translations_keep_the_placeholders_of_the_english(catalogue):
    for entry in catalogue:
        wanted = set(PLACEHOLDER.findall(entry.msgid)) | set(PLACEHOLDER.findall(entry.msgid_plural or ""))
        for text in translations(entry):
            found = set(PLACEHOLDER.findall(text))
            # A singular form may leave its count out ("una jurisdicción"), never add one.
            assert found <= wanted and (found == wanted or entry.msgid_plural), (entry.msgid, text)


def test_the_compiled_catalogue_matches_the_po(catalogue):
    compiled = {(e.msgctxt or "", e.msgid): e for e in polib.mofile(str(MO)) if e.msgid}
    expected = {(e.msgctxt or "", e.msgid): e for e in catalogue.translated_entries()}
    assert set(compiled) == set(expected)
    for k, entry in expected.items():
        assert translations(compiled[k]) == translations(entry), entry.msgid


@pytest.mark.skipif(not shutil.which("xgettext"), reason="xgettext (Debian package gettext) is not installed")
def test_makemessages_finds_nothing_the_committed_catalogue_lacks(tmp_path, catalogue):
    project = tmp_path / "project"
    shutil.copytree(settings.BASE_DIR, project, ignore=COPY_IGNORE)
    (project / "locale" / "es" / "LC_MESSAGES" / "django.po").unlink()
    subprocess.run(
        [sys.executable, "manage.py", *MAKEMESSAGES],
        cwd=project,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"},
    )
    fresh = polib.pofile(str(project / "locale" / "es" / "LC_MESSAGES" / "django.po"))
    committed = {key(e) for e in catalogue}
    found = {key(e) for e in fresh}
    assert sorted(found - committed) == [], "run `make messages` and translate the new entries"
    assert sorted(committed - found) == [], "entries no code uses any more: run `make messages`"
