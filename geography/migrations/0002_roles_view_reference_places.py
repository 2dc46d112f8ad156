"""Editors and Reviewers may look reference places up (the autocomplete of a jurisdiction's
"reference place" in the admin needs the view permission); nobody edits them by hand."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = ["Editor", "Reviewer"]
CODENAMES = ["view_place", "view_state"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("geography")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = list(Permission.objects.filter(content_type__app_label="geography", codename__in=CODENAMES))
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = list(Permission.objects.filter(content_type__app_label="geography", codename__in=CODENAMES))
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("geography", "0001_reference_geography"),
        ("jurisdictions", "0004_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
