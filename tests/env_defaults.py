"""Loaded with `-p tests.env_defaults` before Django starts: test-only defaults for the settings.

Anything already set in the environment (DATABASE_URL above all) wins.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-never-used-in-production")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECURE", "0")
