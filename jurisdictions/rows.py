"""What a page of jurisdictions shows of their enrollments and answers, as plain rows.

One query for a whole page: each enrollment of the page's jurisdictions joined to its program, its
source, each answer with its requirement and source (one row per answer, or one per enrollment
without answers), in the order pages show them: program by launch date and name, then the
requirement's order. The API's representation (api/representation.py) and the public list
(views.py) read the same rows, so both pages cost the same queries.

Each row is a `Row`, a named tuple of the names below (a tuple per row costs a seventh of a dict).
On PostgreSQL the query is compiled once per process, and the documents the rows cite are read once
per page in the same statement rather than joined once per answer (db/compiled.py, whose notes say
what each buys). A page of a list (`listed`) is read with its rows in that same statement.
"""

from collections import namedtuple
from typing import NamedTuple

from .db.compiled import CompiledRowsCitingDocuments
from .models import Enrollment, Source

# Key in the row -> the ORM path it reads.
COLUMNS = {
    "jurisdiction_id": "jurisdiction_id",
    "jurisdiction_slug": "jurisdiction__slug",
    "jurisdiction_kind": "jurisdiction__kind",
    "id": "id",
    "program": "program__slug",
    "status": "status",
    "site_type": "site_type",
    "letter_sent_on": "letter_sent_on",
    "response_due_on": "response_due_on",
    "joined_on": "joined_on",
    "notes": "notes",
    "version": "version",
    "updated_at": "updated_at",
    "source_title": "source__title",
    "source_publisher": "source__publisher",
    "source_url": "source__url",
    "source_published_on": "source__published_on",
    "source_date_text": "source__date_text",
    "source_kind": "source__kind",
    "site_type_source_title": "site_type_source__title",
    "site_type_source_publisher": "site_type_source__publisher",
    "site_type_source_url": "site_type_source__url",
    "site_type_source_published_on": "site_type_source__published_on",
    "site_type_source_date_text": "site_type_source__date_text",
    "site_type_source_kind": "site_type_source__kind",
    "c_id": "certifications__id",
    "c_requirement": "certifications__requirement__code",
    "c_answer": "certifications__answer",
    "c_basis": "certifications__basis",
    "c_facility_operator": "certifications__facility_operator",
    "c_legal_basis": "certifications__legal_basis",
    "c_citation": "certifications__citation",
    "c_evidence_url": "certifications__evidence_url",
    "c_certified_on": "certifications__certified_on",
    "c_certified_by": "certifications__certified_by",
    "c_version": "certifications__version",
    "c_updated_at": "certifications__updated_at",
    "c_source_title": "certifications__source__title",
    "c_source_publisher": "certifications__source__publisher",
    "c_source_url": "certifications__source__url",
    "c_source_published_on": "certifications__source__published_on",
    "c_source_date_text": "certifications__source__date_text",
    "c_source_kind": "certifications__source__kind",
    "c_second_source_title": "certifications__second_source__title",
    "c_second_source_publisher": "certifications__second_source__publisher",
    "c_second_source_url": "certifications__second_source__url",
    "c_second_source_published_on": "certifications__second_source__published_on",
    "c_second_source_date_text": "certifications__second_source__date_text",
    "c_second_source_kind": "certifications__second_source__kind",
}
KEYS = tuple(COLUMNS)


def _queryset():
    return Enrollment.objects.order_by(
        "jurisdiction_id", "program__launched_on", "program__name", "certifications__requirement__order"
    ).values_list(*COLUMNS.values())


# The documents a row cites, each as the same run of columns (read once per page on PostgreSQL).
DOCUMENT_FIELDS = ("title", "publisher", "url", "published_on", "date_text", "kind")
DOCUMENT_PATHS = (
    "source",
    "site_type_source",
    "certifications__source",
    "certifications__second_source",
)


def _compiled(column):
    return CompiledRowsCitingDocuments(
        _queryset, column, model=Source, fields=DOCUMENT_FIELDS, paths=DOCUMENT_PATHS
    )


BY_JURISDICTION = _compiled("jurisdiction_id")
BY_ENROLLMENT = _compiled("id")


class Row(namedtuple("Row", KEYS)):
    """One row, its values read by name (`row.status`, `row.c_answer`), with the model's own
    `status_since` rule applied to it (no Enrollment instance built per row)."""

    __slots__ = ()
    Status = Enrollment.Status
    status_since = Enrollment.status_since


def enrollment_rows(*, jurisdiction_ids=None, enrollment_id=None):
    """The rows of the given jurisdictions' enrollments (or of one enrollment), as `Row`s."""
    if enrollment_id is not None:
        found = BY_ENROLLMENT.rows([enrollment_id])
    else:
        found = BY_JURISDICTION.rows(jurisdiction_ids)
    return list(map(Row._make, found))


# What a list shows of each jurisdiction itself (the paths `Listed` reads, in its order).
LISTED = ("pk", "slug", "name", "state", "kind", "geoid", "ocd_id", "updated_at")


class Listed(NamedTuple):
    """A jurisdiction of a list page with its rows (`Row`s, as `enrollment_rows` gives them)."""

    pk: int
    slug: str
    name: str
    state: str
    kind: str
    geoid: str | None
    ocd_id: str
    updated_at: object
    rows: list


def listed(queryset, *, count=None):
    """([Listed], the `count` annotation's value or None) for the jurisdictions of `queryset` (a
    page: ordered and sliced), in its order. One statement on PostgreSQL, the page with its rows
    (db/compiled.py, `rows_under`); `count` names an annotation of `queryset` to read with it."""
    paths = (*LISTED, count) if count else LISTED
    found = BY_JURISDICTION.rows_under(queryset.values_list(*paths), using=queryset.db)
    total = found[0][0][len(LISTED)] if count and found else None
    return [Listed(*parent[: len(LISTED)], list(map(Row._make, rows))) for parent, rows in found], total


def listed_of(jurisdictions):
    """`Listed` for model instances already read (one record, or a page read by the ORM)."""
    jurisdictions = list(jurisdictions)
    children = {}
    for row in enrollment_rows(jurisdiction_ids=[j.pk for j in jurisdictions]):
        children.setdefault(row.jurisdiction_id, []).append(row)
    return [Listed(*(getattr(j, name) for name in LISTED), children.get(j.pk, [])) for j in jurisdictions]
