"""Staff roles as groups: Editors enter data; Reviewers also admit (set participating)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITOR = "Editor"
REVIEWER = "Reviewer"
EDITABLE = ["jurisdiction", "enrollment", "certification", "source"]
VIEW_ONLY = ["program", "requirement", "statuschange"]


def create_groups(apps, schema_editor):
    # Permissions are normally created after migrations; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = [f"{action}_{model}" for model in EDITABLE for action in ("add", "change", "view")]
    codenames += [f"view_{model}" for model in VIEW_ONLY]
    editor_perms = list(
        Permission.objects.filter(content_type__app_label="jurisdictions", codename__in=codenames)
    )
    editor, _ = Group.objects.get_or_create(name=EDITOR)
    editor.permissions.set(editor_perms)
    reviewer, _ = Group.objects.get_or_create(name=REVIEWER)
    admit = Permission.objects.get(content_type__app_label="jurisdictions", codename="admit_enrollment")
    reviewer.permissions.set([*editor_perms, admit])


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[EDITOR, REVIEWER]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("jurisdictions", "0003_enrollment_admit_permission"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
