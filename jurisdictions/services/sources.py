"""Sources: the documents that statuses and answers cite."""

from django.db import transaction

from ..models import Source
from .common import DuplicateRecordError, create_once


@transaction.atomic
def source_create(*, user, via, **fields):
    source = Source(**fields)
    return create_once(
        source,
        user=user,
        via=via,
        exists={"title": f"A source titled “{source.title}” with this URL exists already."},
    )


def source_find_or_create(*, user, via, title, url="", **fields):
    """The source with this title and URL (its natural key), created when new."""
    source = Source.objects.filter(title=title, url=url).first()
    if source is None:
        try:
            source = source_create(user=user, via=via, title=title, url=url, **fields)
        except DuplicateRecordError:
            source = Source.objects.get(title=title, url=url)  # created a moment ago, in parallel
    return source
