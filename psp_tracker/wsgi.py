"""WSGI entry point, used by gunicorn: gunicorn psp_tracker.wsgi."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "psp_tracker.settings")

application = get_wsgi_application()
