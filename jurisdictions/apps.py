from django.apps import AppConfig

from psp_tracker import gc_tuning


class JurisdictionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "jurisdictions"
    verbose_name = "Programs and jurisdictions"

    def ready(self):
        from . import audit  # noqa: F401  (connects the history signal)
        from .cache import connect_write_watch

        connect_write_watch()  # every write to this app's tables moves the data version on
        gc_tuning.connect()  # long-lived objects frozen after one request, a larger young generation
