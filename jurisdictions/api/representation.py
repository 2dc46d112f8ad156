"""The one JSON representation of jurisdictions, enrollments and certifications.

A jurisdiction in the list, the same jurisdiction alone, an enrollment alone and a certification
alone are all built here from the rows of `rows.enrollment_rows` (read with the page itself by
`rows.listed`: one query on PostgreSQL), so list and detail match by construction. The serializers in serializers.py declare the
fields (for the OpenAPI schema) and call these functions; tests/test_api_schema.py checks every
response against the schema and that each object carries exactly the declared fields.

Dates and times stay Python objects, as DRF's DateField and DateTimeField do with format=None: the
renderer writes them (ISO 8601, UTC as Z), in C with orjson. Formatting the 400 of a page in Python
cost about 0.4 ms.
"""

from django.urls import reverse
from django.utils.translation import get_language

from .. import as_of as history
from ..models import Certification, answers_summary
from ..rows import enrollment_rows


class Urls:
    """Absolute URLs of the API resources and pages, each reversed once per request."""

    def __init__(self, request):
        self.jurisdiction = _template(request, "api:jurisdiction-detail", "slug")
        self.page = _template(request, "jurisdictions:jurisdiction-detail", "slug")
        self.enrollment = _template(request, "api:enrollment-detail", "pk")
        self.certification = _template(request, "api:certification-detail", "pk")


def _template(request, view_name, kwarg):
    marker = "999999999" if kwarg == "pk" else "pspmarker"
    prefix, suffix = request.build_absolute_uri(reverse(view_name, kwargs={kwarg: marker})).split(marker)
    return prefix, suffix


def _url(template, key):
    return f"{template[0]}{key}{template[1]}"


def _source(title, publisher, url, published_on, date_text, kind):
    if title is None:
        return None
    return {
        "kind": kind,
        "title": title,
        "publisher": publisher,
        "url": url,
        "published_on": published_on,
        "date_text": date_text,
    }


def certification(row, urls):
    return {
        "url": _url(urls.certification, row.c_id),
        "id": row.c_id,
        "requirement": row.c_requirement,
        "answer": row.c_answer,
        "basis": row.c_basis,
        "facility_operator": row.c_facility_operator,
        "legal_basis": row.c_legal_basis,
        "citation": row.c_citation,
        "evidence_url": row.c_evidence_url,
        "certified_on": row.c_certified_on,
        "certified_by": row.c_certified_by,
        "source": _source(
            row.c_source_title,
            row.c_source_publisher,
            row.c_source_url,
            row.c_source_published_on,
            row.c_source_date_text,
            row.c_source_kind,
        ),
        "second_source": _source(
            row.c_second_source_title,
            row.c_second_source_publisher,
            row.c_second_source_url,
            row.c_second_source_published_on,
            row.c_second_source_date_text,
            row.c_second_source_kind,
        ),
        "version": row.c_version,
        "updated_at": row.c_updated_at,
    }


def enrollment(row, urls):
    """An enrollment without its answers (`nest` adds them)."""
    return {
        "url": _url(urls.enrollment, row.id),
        "id": row.id,
        "program": row.program,
        "status": row.status,
        "status_since": row.status_since,
        "site_type": row.site_type,
        "letter_sent_on": row.letter_sent_on,
        "response_due_on": row.response_due_on,
        "joined_on": row.joined_on,
        "notes": row.notes,
        "source": _source(
            row.source_title,
            row.source_publisher,
            row.source_url,
            row.source_published_on,
            row.source_date_text,
            row.source_kind,
        ),
        "site_type_source": _source(
            row.site_type_source_title,
            row.site_type_source_publisher,
            row.site_type_source_url,
            row.site_type_source_published_on,
            row.site_type_source_date_text,
            row.site_type_source_kind,
        ),
        "answers_summary": "",
        "certifications": [],
        "version": row.version,
        "updated_at": row.updated_at,
    }


def nest(rows, urls, *, as_of=None):
    """{jurisdiction id: [enrollment with its certifications]} from `enrollment_rows`.

    With `as_of` (a day), statuses and answers are those that stood at the end of that day
    (as_of.py), and enrollments that did not exist yet are left out."""
    nested, by_id, kinds = {}, {}, {}
    for row in rows:
        e = by_id.get(row.id)
        if e is None:
            e = by_id[row.id] = enrollment(row, urls)
            kinds[row.id] = row.jurisdiction_kind
            nested.setdefault(row.jurisdiction_id, []).append(e)
        if row.c_id is not None:
            e["certifications"].append(certification(row, urls))
    if as_of is not None and by_id:
        _as_of(nested, by_id, as_of)
    language = get_language()
    for pk, e in by_id.items():
        # Every enrollment has one answer per requirement of its program (services.answers).
        e["answers_summary"] = answers_summary(
            [(c["answer"], c["basis"]) for c in e["certifications"]],
            of=len(e["certifications"]),
            kind=kinds[pk],
            language=language,
        )
    return nested


def _as_of(nested, by_id, day):
    standing = history.statuses(day, enrollment_ids=by_id)
    answers = history.answers(day, enrollment_ids=by_id)
    for jurisdiction_id, enrollments in nested.items():
        kept = []
        for e in enrollments:
            s = standing.get(e["id"])
            if s is None:
                by_id.pop(e["id"])
                continue
            e["status"], e["status_since"] = s.status, s.since
            for c in e["certifications"]:
                c["answer"], c["basis"] = answers.get(c["id"], (Certification.Answer.UNKNOWN, ""))
            kept.append(e)
        nested[jurisdiction_id] = kept


def jurisdiction(j, enrollments, urls):
    return {
        "url": _url(urls.jurisdiction, j.slug),
        "slug": j.slug,
        "name": j.name,
        "state": j.state,
        "kind": j.kind,
        "geoid": j.geoid,
        "ocd_id": j.ocd_id,
        "page_url": _url(urls.page, j.slug),
        "enrollments": enrollments,
        "updated_at": j.updated_at,
    }


def jurisdictions(listed, request, *, as_of=None):
    """The representation of each jurisdiction of `listed` (`rows.Listed`: a page read with its
    rows, or `listed_of` one record); with `as_of` (a checked day), statuses and answers as they
    stood at the end of that day."""
    urls = Urls(request)
    nested = nest([row for j in listed for row in j.rows], urls, as_of=as_of)
    return [jurisdiction(j, nested.get(j.pk, []), urls) for j in listed]


def enrollment_detail(instance, request):
    """An enrollment alone: the nested representation, with its jurisdiction first."""
    urls = Urls(request)
    rows = enrollment_rows(enrollment_id=instance.pk)
    (nested,) = nest(rows, urls)[instance.jurisdiction_id]
    slug = rows[0].jurisdiction_slug
    return {
        "url": nested.pop("url"),
        "id": nested.pop("id"),
        "jurisdiction": _url(urls.jurisdiction, slug),
        "jurisdiction_slug": slug,
        **nested,
    }


def certification_detail(instance, request):
    """A certification alone: the nested representation, with where it belongs first."""
    urls = Urls(request)
    rows = [row for row in enrollment_rows(enrollment_id=instance.enrollment_id) if row.c_id == instance.pk]
    nested = certification(rows[0], urls)
    return {
        "url": nested.pop("url"),
        "id": nested.pop("id"),
        "enrollment": _url(urls.enrollment, rows[0].id),
        "jurisdiction": rows[0].jurisdiction_slug,
        "program": rows[0].program,
        **nested,
    }
