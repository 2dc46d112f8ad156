"""The Public Safety Partnership and its three requirements, as reference data.

The importer matches rows to a program by slug and to requirements by code, so the program they
name must exist first. Wording of the requirements is taken from the source document.
"""

import datetime

from django.db import migrations

SOURCE = {
    "title": "Sessions Takes Action Against Sanctuary Cities",
    "publisher": "Breitbart",
    "url": "",
}

PROGRAM = {
    "slug": "psp",
    "name": "Public Safety Partnership",
    "agency": "U.S. Department of Justice",
    "launched_on": datetime.date(2017, 6, 20),
    "description": (
        "A U.S. Department of Justice program, launched in June 2017, in which federal "
        "crime-prevention specialists work with local law enforcement to reduce violent crime. "
        "To take part, a jurisdiction certifies that its statutes, regulations or policies meet "
        "three requirements on cooperation with the Department of Homeland Security (DHS). "
        "Twelve cities were named as the first participants; in August 2017 the Department sent "
        "letters to four more cities asking them to meet the requirements."
    ),
}

REQUIREMENTS = [
    (
        "facility_access",
        "DHS access to correctional and detention facilities",
        "Department of Homeland Security (DHS) personnel will have access to a correctional or "
        "detention facility to meet with aliens or those suspected of being alien in order to "
        "determine their right to be in the United States.",
    ),
    (
        "release_notice",
        "48 hours' notice to DHS of a scheduled release",
        "Correctional and detention facilities must provide at least 48 hours advance notice, if "
        "possible, to DHS regarding a scheduled release date and time for an alien held in "
        "custody whenever DHS requests such advance notice.",
    ),
    (
        "hold_request",
        "Honour a written DHS request to hold up to 48 hours",
        "Correctional and detention facilities must honor a written request from DHS to hold a "
        "foreign national up to 48 hours beyond the scheduled release date in order to permit DHS "
        "to take custody of the individual.",
    ),
]


def create_psp(apps, schema_editor):
    Source = apps.get_model("jurisdictions", "Source")
    Program = apps.get_model("jurisdictions", "Program")
    Requirement = apps.get_model("jurisdictions", "Requirement")
    source, _ = Source.objects.get_or_create(title=SOURCE["title"], url=SOURCE["url"], defaults=SOURCE)
    program, _ = Program.objects.get_or_create(slug=PROGRAM["slug"], defaults={**PROGRAM, "source": source})
    for order, (code, title, text) in enumerate(REQUIREMENTS, start=1):
        Requirement.objects.get_or_create(
            program=program, code=code, defaults={"title": title, "text": text, "order": order}
        )


def remove_psp(apps, schema_editor):
    Program = apps.get_model("jurisdictions", "Program")
    Program.objects.filter(slug=PROGRAM["slug"], enrollments__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("jurisdictions", "0001_initial")]

    operations = [migrations.RunPython(create_psp, remove_psp)]
