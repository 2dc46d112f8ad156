"""Wording and citations of the PSP reference data (issue 14).

- The requirements' short titles keep the qualifiers of their full wording ("where possible",
  "when DHS asks"), in US English and neutral words. Only titles nobody reworded since are changed.
- The seed article is a news report; the program's launch (2017-06-20) is cited to the Department of
  Justice's release of that day, which the article does not date. The release's URL was not verified
  for the research notes, so it is left empty rather than guessed.
"""

import datetime

from django.contrib.auth.management import create_permissions
from django.db import migrations

TITLES = {
    "facility_access": (
        "DHS access to correctional and detention facilities",
        "DHS access to correctional and detention facilities to meet people held there",
    ),
    "release_notice": (
        "48 hours' notice to DHS of a scheduled release",
        "At least 48 hours' notice of a release, where possible, when DHS asks",
    ),
    "hold_request": (
        "Honour a written DHS request to hold up to 48 hours",
        "Honor a written DHS request to hold a person up to 48 hours past release",
    ),
}
SEED_ARTICLE = "Sessions Takes Action Against Sanctuary Cities"
DOJ_RELEASE = {
    "title": (
        "Attorney General Sessions Announces Creation of National Public Safety Partnership "
        "to Combat Violent Crime"
    ),
    "url": "",
    "kind": "government_document",
    "publisher": "U.S. Department of Justice, Office of Public Affairs",
    "published_on": datetime.date(2017, 6, 20),
}


def retitle(apps, schema_editor, *, forward=True):
    Requirement = apps.get_model("jurisdictions", "Requirement")
    for code, (old, new) in TITLES.items():
        before, after = (old, new) if forward else (new, old)
        Requirement.objects.filter(program__slug="psp", code=code, title=before).update(title=after)


def recite(apps, schema_editor):
    Source = apps.get_model("jurisdictions", "Source")
    Program = apps.get_model("jurisdictions", "Program")
    Source.objects.filter(title=SEED_ARTICLE, url="").update(kind="news_report")
    program = Program.objects.filter(slug="psp", source__title=SEED_ARTICLE).first()
    if program is not None:
        release, _ = Source.objects.get_or_create(
            title=DOJ_RELEASE["title"], url=DOJ_RELEASE["url"], defaults=DOJ_RELEASE
        )
        program.source = release
        program.save(update_fields=["source"])


def staff_queue(apps, schema_editor):
    """Editors and Reviewers work the queue of error reports (view and decide)."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(
        content_type__app_label="jurisdictions", codename__in=["view_errorreport", "change_errorreport"]
    )
    for group in Group.objects.filter(name__in=["Editor", "Reviewer"]):
        group.permissions.add(*perms)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("jurisdictions", "0011_record_you_can_cite"),
    ]

    operations = [
        migrations.RunPython(retitle, lambda apps, se: retitle(apps, se, forward=False)),
        migrations.RunPython(recite, migrations.RunPython.noop),
        migrations.RunPython(staff_queue, migrations.RunPython.noop),
    ]
