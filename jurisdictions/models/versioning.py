"""The data version row that keys the response cache (see jurisdictions/db/watch.py, which reads and bumps it with plain SQL)."""

from django.db import models


class DataVersion(models.Model):
    """One row (id 1): moved on in the same transaction as every write to this app's tables.

    It keys the response cache (jurisdictions/cache.py), so a cached response is served only when it
    was stored under the version the database holds now.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.CharField(max_length=32, help_text="Random; a new one for every committed write.")
    modified = models.BigIntegerField(help_text="When it last changed (seconds since the epoch).")

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="dataversion_single_row")]

    def __str__(self):
        return f"data version {self.token} ({self.modified})"
