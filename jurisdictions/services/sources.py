"""Sources: the documents that statuses and answers cite."""

from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import Source
from .common import DuplicateRecordError, assign, create_once, lock_for_update, save_audited, sync


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


SOURCE_FIELDS = ("kind", "title", "publisher", "url", "published_on", "date_text", "archived_url", "quote")


@transaction.atomic
def source_update(*, source, user, via, **fields):
    """Change a document's description (kind, publisher, date, archived copy, quoted passage)."""
    current = lock_for_update(source) if source.pk else source
    if assign(current, fields, SOURCE_FIELDS):
        current.full_clean()
        save_audited(current, user=user, via=via)
    sync(source, current)
    return current


@transaction.atomic
def sources_load(*, rows, user, via):
    """Describe many documents at once (the seed's sibling file): each row a dict of SOURCE_FIELDS,
    found by title and URL, created when new, else updated. Every row is checked before any is
    kept: a ValidationError names the row (1-based, after the header) and the field."""
    loaded, errors = [], []
    for number, values in enumerate(rows, start=2):
        try:
            source = source_find_or_create(
                user=user, via=via, title=values["title"], url=values.get("url", "")
            )
            loaded.append(source_update(source=source, user=user, via=via, **values))
        except ValidationError as exc:
            errors.extend(
                f"line {number}: {field}: {'; '.join(messages)}"
                for field, messages in (
                    exc.message_dict.items() if hasattr(exc, "error_dict") else [("row", exc.messages)]
                )
            )
    if errors:
        raise ValidationError(errors)
    return loaded
