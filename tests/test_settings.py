"""Settings come from the environment; bad values stop start-up with the variable's name."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_settings(**env):
    """Import the settings in a fresh interpreter with exactly these variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "API_"))}
    clean.update(env)
    code = (
        "import django, json; from django.conf import settings; django.setup(); "
        "print(json.dumps({'debug': settings.DEBUG, 'engine': settings.DATABASES['default']['ENGINE'], "
        "'name': str(settings.DATABASES['default']['NAME']), 'ssl': settings.SECURE_SSL_REDIRECT, "
        "'hsts': settings.SECURE_HSTS_SECONDS, 'hosts': settings.ALLOWED_HOSTS, "
        "'no_server_side_cursors': settings.DATABASES['default']['DISABLE_SERVER_SIDE_CURSORS']}))"
    )
    clean["DJANGO_SETTINGS_MODULE"] = "psp_tracker.settings"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG='maybe'"),
        ({"DJANGO_DEBUG": "1", "DJANGO_SECURE": "sometimes"}, "DJANGO_SECURE='sometimes'"),
        ({"DJANGO_DEBUG": "0"}, "DJANGO_SECRET_KEY is required"),
        ({"DJANGO_DEBUG": "1", "API_ANON_RATE": "lots"}, "API_ANON_RATE='lots'"),
        ({"DJANGO_DEBUG": "1", "DATABASE_URL": "nonsense://x"}, "DATABASE_URL"),
        (
            {"DJANGO_DEBUG": "1", "DB_DISABLE_SERVER_SIDE_CURSORS": "pgbouncer"},
            "DB_DISABLE_SERVER_SIDE_CURSORS",
        ),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(env, variable):
    result = load_settings(**env)
    assert result.returncode != 0
    assert variable in result.stderr


def test_defaults_to_sqlite_in_the_project_folder():
    import json

    result = load_settings(DJANGO_DEBUG="1")
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(ROOT / "db.sqlite3")
    assert values["ssl"] is False


def test_https_hardening_is_on_by_default_when_debug_is_off():
    import json

    values = json.loads(
        load_settings(DJANGO_SECRET_KEY="x" * 50, DJANGO_ALLOWED_HOSTS="psp.example.org").stdout
    )
    assert (values["debug"], values["ssl"], values["hosts"]) == (False, True, ["psp.example.org"])
    assert values["hsts"] >= 31536000


def test_postgres_url_selects_postgresql():
    import json

    values = json.loads(
        load_settings(DJANGO_DEBUG="1", DATABASE_URL="postgres://root@127.0.0.1:5432/test").stdout
    )
    assert (values["engine"], values["name"]) == ("django.db.backends.postgresql", "test")


def test_server_side_cursors_are_on_unless_switched_off_for_pgbouncer():
    import json

    url = "postgres://root@127.0.0.1:5432/test"
    default = json.loads(load_settings(DJANGO_DEBUG="1", DATABASE_URL=url).stdout)
    pooled = json.loads(
        load_settings(DJANGO_DEBUG="1", DATABASE_URL=url, DB_DISABLE_SERVER_SIDE_CURSORS="1").stdout
    )
    assert (default["no_server_side_cursors"], pooled["no_server_side_cursors"]) == (False, True)
