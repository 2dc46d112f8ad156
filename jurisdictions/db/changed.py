"""When anything the public reads last changed, from the database itself, in one query.

Used for Last-Modified inside a transaction that has written and not committed (the data version
of jurisdictions/cache.py moves on only at commit). Raw SQL: one UNION ALL over the newest
history date of every history table and the newest status change, which the ORM cannot write as
one statement.
"""

import datetime

from django.db import connection
from django.utils.dateparse import parse_datetime

from ..models import Certification, Enrollment, Jurisdiction, Program, Requirement, Source, StatusChange

# Every model a response shows keeps a history row per create, update and delete
# (django-simple-history), so the newest history date is when the public data last changed,
# deletions included. Status changes are append-only and carry their own time.
HISTORIED_MODELS = (Source, Program, Requirement, Jurisdiction, Enrollment, Certification)


def data_changed_at():
    """When anything the API shows last changed; None for an empty database."""
    quote = connection.ops.quote_name
    parts = [
        f"SELECT MAX({quote('history_date')}) AS t FROM {quote(model.history.model._meta.db_table)}"
        for model in HISTORIED_MODELS
    ]
    parts.append(f"SELECT MAX({quote('changed_at')}) AS t FROM {quote(StatusChange._meta.db_table)}")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(t) FROM ({' UNION ALL '.join(parts)}) AS latest")
        (value,) = cursor.fetchone()
    if isinstance(value, str):  # SQLite returns the stored text of an aggregate
        value = parse_datetime(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value
