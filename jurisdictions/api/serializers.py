"""API representations. Every serializer lists its fields explicitly so a new column never leaks,
and every field carries help_text, which becomes its description in the OpenAPI schema.

Relations are shown by their stable identifiers (program slug, requirement code, jurisdiction slug);
enrollments and certifications also carry the `url` of their own API resource, which staff write to.
"""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..db.compiled import CompiledRows
from ..models import Certification, Enrollment, Jurisdiction, Program, Requirement, Source, StatusChange


class SourceSerializer(serializers.ModelSerializer):
    # Plain text rather than a URI in the schema: it may be empty.
    url = serializers.CharField(
        read_only=True, help_text="Where the document can be read; empty when not recorded."
    )

    class Meta:
        model = Source
        fields = ("title", "publisher", "url", "published_on")
        read_only_fields = fields
        extra_kwargs = {
            "title": {"help_text": "Title of the document."},
            "publisher": {"help_text": "Who published the document; empty when not recorded."},
        }


def source_field(what):
    return SourceSerializer(
        read_only=True, allow_null=True, help_text=f"The document that reports {what}; null when none."
    )


@extend_schema_field(
    # drf-spectacular writes oneOf, which an empty string matches twice for a validator that does
    # not check the uri format; anyOf says the same without that trap.
    {"anyOf": [{"type": "string", "format": "uri", "maxLength": 500}, {"type": "string", "maxLength": 0}]}
)
class BlankableURLField(serializers.URLField):
    """A URL, or an empty string when there is none."""


class CertificationSerializer(serializers.ModelSerializer):
    """One answer, as nested in an enrollment."""

    url = serializers.HyperlinkedIdentityField(
        view_name="api:certification-detail",
        help_text="This certification's API resource.",
    )
    requirement = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        help_text="Code of the requirement answered, e.g. hold_request (see the program's requirements).",
    )
    evidence_url = BlankableURLField(
        max_length=500, allow_blank=True, required=False, help_text="Link to the evidence; empty when none."
    )
    source = source_field("the answer")

    class Meta:
        model = Certification
        fields = (
            "url",
            "id",
            "requirement",
            "answer",
            "facility_operator",
            "legal_basis",
            "citation",
            "evidence_url",
            "certified_on",
            "certified_by",
            "source",
            "version",
            "updated_at",
        )
        read_only_fields = ("id", "requirement", "version", "updated_at")
        extra_kwargs = {
            "id": {"help_text": "Numeric identifier of the certification."},
            "answer": {
                "help_text": (
                    "The jurisdiction's answer: yes, no, not_applicable (it does not run the "
                    "facility; see facility_operator) or unknown."
                )
            },
        }


class CertificationDetailSerializer(CertificationSerializer):
    """A certification on its own, with where it belongs."""

    enrollment = serializers.HyperlinkedRelatedField(
        view_name="api:enrollment-detail",
        read_only=True,
        help_text="API resource of the enrollment this certification belongs to.",
    )
    jurisdiction = serializers.SlugRelatedField(
        source="enrollment.jurisdiction",
        slug_field="slug",
        read_only=True,
        help_text="Slug of the jurisdiction that certified.",
    )
    program = serializers.SlugRelatedField(
        source="enrollment.program",
        slug_field="slug",
        read_only=True,
        help_text="Slug of the program the requirement belongs to.",
    )

    class Meta(CertificationSerializer.Meta):
        fields = ("url", "id", "enrollment", "jurisdiction", "program") + CertificationSerializer.Meta.fields[
            2:
        ]


class EnrollmentSerializer(serializers.ModelSerializer):
    """A jurisdiction's place in one program, as nested in a jurisdiction."""

    url = serializers.HyperlinkedIdentityField(
        view_name="api:enrollment-detail",
        help_text="This enrollment's API resource.",
    )
    program = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="Slug of the program, e.g. psp."
    )
    status_since = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text=(
            "Date the current status took effect: joined_on when participating, letter_sent_on "
            "when a letter was sent; null otherwise or when not recorded."
        ),
    )
    certifications = CertificationSerializer(
        many=True,
        read_only=True,
        help_text="The answers to the program's requirements, in the program's order.",
    )
    source = source_field("the current status")

    class Meta:
        model = Enrollment
        fields = (
            "url",
            "id",
            "program",
            "status",
            "status_since",
            "site_type",
            "letter_sent_on",
            "response_due_on",
            "joined_on",
            "notes",
            "source",
            "certifications",
            "version",
            "updated_at",
        )
        read_only_fields = ("id", "program", "version", "updated_at")
        extra_kwargs = {
            "id": {"help_text": "Numeric identifier of the enrollment."},
            "notes": {"help_text": "Notes on the enrollment, in plain text; may be empty."},
        }


class EnrollmentDetailSerializer(EnrollmentSerializer):
    """An enrollment on its own, with its jurisdiction."""

    jurisdiction = serializers.HyperlinkedRelatedField(
        view_name="api:jurisdiction-detail",
        lookup_field="slug",
        read_only=True,
        help_text="API resource of the jurisdiction.",
    )
    jurisdiction_slug = serializers.SlugRelatedField(
        source="jurisdiction",
        slug_field="slug",
        read_only=True,
        help_text="Slug of the jurisdiction, e.g. memphis-tn.",
    )

    class Meta(EnrollmentSerializer.Meta):
        fields = ("url", "id", "jurisdiction", "jurisdiction_slug") + EnrollmentSerializer.Meta.fields[2:]


# The list path leaves dates and times as Python objects, as DRF's DateField and DateTimeField do with
# format=None: the renderer writes them (orjson, in C, as DRF's encoder would: ISO 8601, UTC as Z).
# Formatting the 400 of a page in Python cost about 0.4 ms. The database returns aware UTC datetimes,
# so the text is the one DateTimeField writes (tests/test_performance.py).


def _source(source):
    if source is None:
        return None
    return {
        "title": source.title,
        "publisher": source.publisher,
        "url": source.url,
        "published_on": source.published_on,
    }


def _source_values(title, publisher, url, published_on):
    if title is None:
        return None
    return {"title": title, "publisher": publisher, "url": url, "published_on": published_on}


# One row per answer (or per enrollment without answers), for the list's values path.
NESTED_COLUMNS = (
    "jurisdiction_id",
    "id",
    "program__slug",
    "status",
    "site_type",
    "letter_sent_on",
    "response_due_on",
    "joined_on",
    "notes",
    "version",
    "updated_at",
    "source__title",
    "source__publisher",
    "source__url",
    "source__published_on",
    "certifications__id",
    "certifications__requirement__code",
    "certifications__answer",
    "certifications__facility_operator",
    "certifications__legal_basis",
    "certifications__citation",
    "certifications__evidence_url",
    "certifications__certified_on",
    "certifications__certified_by",
    "certifications__version",
    "certifications__updated_at",
    "certifications__source__title",
    "certifications__source__publisher",
    "certifications__source__url",
    "certifications__source__published_on",
)

# The page's enrollments with their answers, in the order the prefetch path gives: program, then the
# requirement's order. Compiled once (compiled.py): the page's ids are its only parameter.
NESTED_ROWS = CompiledRows(
    lambda: Enrollment.objects.order_by(
        "jurisdiction_id", "program__launched_on", "program__name", "certifications__requirement__order"
    ).values_list(*NESTED_COLUMNS),
    "jurisdiction_id",
)


class _StatusDates:
    """What Enrollment.status_since reads, with that property itself: the model's rule applied to
    a row of plain values without building a model instance for each enrollment."""

    __slots__ = ("status", "letter_sent_on", "joined_on")
    Status = Enrollment.Status
    status_since = Enrollment.status_since

    def __init__(self, status, letter_sent_on, joined_on):
        self.status, self.letter_sent_on, self.joined_on = status, letter_sent_on, joined_on


def _url_template(request, view_name, kwarg, placeholder):
    """(prefix, suffix) of the absolute URL of `view_name`, so that a URL is prefix + key + suffix."""
    path = reverse(view_name, kwargs={kwarg: placeholder})
    prefix, suffix = request.build_absolute_uri(path).split(placeholder)
    return prefix, suffix


class JurisdictionListSerializer(serializers.ListSerializer):
    """The read-only list path: the same JSON as JurisdictionSerializer, built without a field
    object per value (and, when the jurisdictions come without prefetched enrollments, from one
    query of plain values for the whole page instead of model objects).

    DRF's ModelSerializer costs about 1 ms per jurisdiction with its nested enrollments and answers
    (field lookups, a `reverse()` per hyperlink), three times the raw query. This builds the same
    dictionaries directly from the prefetched objects or the page's rows, with each URL reversed
    once per page, and leaves dates and times to the renderer (see the note above).
    tests/test_performance.py checks that both renderers write exactly the JSON of the per-object
    serializer, so the OpenAPI schema (generated from the child serializer) still describes it.
    """

    def to_representation(self, data):
        iterable = list(data.all() if hasattr(data, "all") else data)
        request = self.context["request"]
        jurisdiction_url = _url_template(request, "api:jurisdiction-detail", "slug", "pspslugmarker")
        page_url = _url_template(request, "jurisdictions:jurisdiction-detail", "slug", "pspslugmarker")
        enrollment_url = _url_template(request, "api:enrollment-detail", "pk", "999999999")
        certification_url = _url_template(request, "api:certification-detail", "pk", "999999999")
        prefetched = all("enrollments" in getattr(j, "_prefetched_objects_cache", {}) for j in iterable)
        nested = {} if prefetched else self._nested(iterable, enrollment_url, certification_url)
        results = []
        for j in iterable:
            if not prefetched:
                enrollments = nested.get(j.pk, [])
                results.append(self._jurisdiction(j, enrollments, jurisdiction_url, page_url))
                continue
            enrollments = []
            for e in j.enrollments.all():
                certifications = [
                    {
                        "url": f"{certification_url[0]}{c.pk}{certification_url[1]}",
                        "id": c.pk,
                        "requirement": c.requirement.code,
                        "answer": c.answer,
                        "facility_operator": c.facility_operator,
                        "legal_basis": c.legal_basis,
                        "citation": c.citation,
                        "evidence_url": c.evidence_url,
                        "certified_on": c.certified_on,
                        "certified_by": c.certified_by,
                        "source": _source(c.source),
                        "version": c.version,
                        "updated_at": c.updated_at,
                    }
                    for c in e.certifications.all()
                ]
                enrollments.append(
                    {
                        "url": f"{enrollment_url[0]}{e.pk}{enrollment_url[1]}",
                        "id": e.pk,
                        "program": e.program.slug,
                        "status": e.status,
                        "status_since": e.status_since,
                        "site_type": e.site_type,
                        "letter_sent_on": e.letter_sent_on,
                        "response_due_on": e.response_due_on,
                        "joined_on": e.joined_on,
                        "notes": e.notes,
                        "source": _source(e.source),
                        "certifications": certifications,
                        "version": e.version,
                        "updated_at": e.updated_at,
                    }
                )
            results.append(self._jurisdiction(j, enrollments, jurisdiction_url, page_url))
        return results

    @staticmethod
    def _jurisdiction(j, enrollments, jurisdiction_url, page_url):
        return {
            "url": f"{jurisdiction_url[0]}{j.slug}{jurisdiction_url[1]}",
            "slug": j.slug,
            "name": j.name,
            "state": j.state,
            "kind": j.kind,
            "geoid": j.geoid,
            "ocd_id": j.ocd_id,
            "page_url": f"{page_url[0]}{j.slug}{page_url[1]}",
            "enrollments": enrollments,
            "updated_at": j.updated_at,
        }

    @staticmethod
    def _nested(jurisdictions, enrollment_url, certification_url):
        """{jurisdiction id: [enrollment dicts]} for the page, from one query of plain values (no
        model objects), in the order the prefetch path gives: program, then requirement order."""
        nested, by_id = {}, {}
        enrollment_prefix, enrollment_suffix = enrollment_url
        certification_prefix, certification_suffix = certification_url
        for row in NESTED_ROWS.rows(j.pk for j in jurisdictions):
            (
                j_id, e_id, program, status, site_type, letter, due, joined, notes, version, updated,
                source_title, source_publisher, source_url, source_date,
                c_id, code, answer, operator, basis, citation, evidence, certified_on, certified_by,
                c_version, c_updated, c_source_title, c_source_publisher, c_source_url, c_source_date,
            ) = row  # fmt: skip
            e = by_id.get(e_id)
            if e is None:
                e = by_id[e_id] = {
                    "url": f"{enrollment_prefix}{e_id}{enrollment_suffix}",
                    "id": e_id,
                    "program": program,
                    "status": status,
                    "status_since": _StatusDates(status, letter, joined).status_since,
                    "site_type": site_type,
                    "letter_sent_on": letter,
                    "response_due_on": due,
                    "joined_on": joined,
                    "notes": notes,
                    "source": _source_values(source_title, source_publisher, source_url, source_date),
                    "certifications": [],
                    "version": version,
                    "updated_at": updated,
                }
                nested.setdefault(j_id, []).append(e)
            if c_id is None:
                continue
            e["certifications"].append(
                {
                    "url": f"{certification_prefix}{c_id}{certification_suffix}",
                    "id": c_id,
                    "requirement": code,
                    "answer": answer,
                    "facility_operator": operator,
                    "legal_basis": basis,
                    "citation": citation,
                    "evidence_url": evidence,
                    "certified_on": certified_on,
                    "certified_by": certified_by,
                    "source": _source_values(c_source_title, c_source_publisher, c_source_url, c_source_date),
                    "version": c_version,
                    "updated_at": c_updated,
                }
            )
        return nested


class JurisdictionSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:jurisdiction-detail",
        lookup_field="slug",
        help_text="This jurisdiction's API resource.",
    )
    page_url = serializers.SerializerMethodField(help_text="The jurisdiction's public page on this site.")
    enrollments = EnrollmentSerializer(
        many=True, read_only=True, help_text="The jurisdiction's place in each program it is enrolled in."
    )

    class Meta:
        model = Jurisdiction
        # Lists take the lighter path above; one object (detail, writes) the fields below.
        list_serializer_class = JurisdictionListSerializer
        fields = (
            "url",
            "slug",
            "name",
            "state",
            "kind",
            "geoid",
            "ocd_id",
            "page_url",
            "enrollments",
            "updated_at",
        )
        read_only_fields = fields
        extra_kwargs = {
            "kind": {"help_text": "Kind of jurisdiction: city, county, state, territory or other."},
            "geoid": {
                "help_text": "Census Bureau GEOID, as text so leading zeros are kept; null when unknown."
            },
            "ocd_id": {"help_text": "Open Civic Data division identifier; empty when unknown."},
            "updated_at": {
                "help_text": "When the jurisdiction, one of its enrollments or answers last changed."
            },
        }

    @extend_schema_field(OpenApiTypes.URI)
    def get_page_url(self, jurisdiction):
        return self.context["request"].build_absolute_uri(jurisdiction.get_absolute_url())


class RequirementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Requirement
        fields = ("code", "title", "text", "order")
        read_only_fields = fields


def _status_counts_serializer():
    # Built from the status choices so the schema always lists exactly what status_counts returns.
    attrs = {
        status: serializers.IntegerField(help_text=f"Number of enrollments with status {label}.")
        for status, label in Enrollment.Status.choices
    }
    attrs["__doc__"] = "Number of enrollments in each status (zero when none)."
    return type("StatusCountsSerializer", (serializers.Serializer,), attrs)


StatusCountsSerializer = _status_counts_serializer()


class ProgramSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:program-detail",
        lookup_field="slug",
        help_text="This program's API resource.",
    )
    requirements = RequirementSerializer(
        many=True,
        read_only=True,
        help_text="The conditions a jurisdiction certifies, in the program's order.",
    )
    status_counts = serializers.SerializerMethodField(
        help_text="Number of enrollments in the program in each status."
    )
    source = source_field("the program")

    class Meta:
        model = Program
        fields = (
            "url",
            "slug",
            "name",
            "agency",
            "launched_on",
            "description",
            "source",
            "requirements",
            "status_counts",
            "updated_at",
        )
        read_only_fields = fields
        extra_kwargs = {"name": {"help_text": "Full name of the program."}}

    def get_status_counts(self, program) -> StatusCountsSerializer:
        # The ViewSet annotates n_<status>; a program fetched any other way counts with a query.
        if hasattr(program, f"n_{Enrollment.Status.values[0]}"):
            return {status: getattr(program, f"n_{status}") for status in Enrollment.Status.values}
        return program.status_counts()


class StatusChangeSerializer(serializers.ModelSerializer):
    enrollment = serializers.HyperlinkedRelatedField(
        view_name="api:enrollment-detail",
        read_only=True,
        help_text="API resource of the enrollment whose status changed.",
    )
    jurisdiction = serializers.SlugRelatedField(
        source="enrollment.jurisdiction",
        slug_field="slug",
        read_only=True,
        help_text="Slug of the jurisdiction, e.g. memphis-tn.",
    )
    program = serializers.SlugRelatedField(
        source="enrollment.program",
        slug_field="slug",
        read_only=True,
        help_text="Slug of the program, e.g. psp.",
    )
    from_status = serializers.ChoiceField(
        choices=Enrollment.Status.choices,
        allow_blank=True,
        read_only=True,
        help_text="Status before the change; empty when the enrollment was created.",
    )
    source = source_field("the change")

    class Meta:
        model = StatusChange
        fields = (
            "id",
            "enrollment",
            "jurisdiction",
            "program",
            "from_status",
            "to_status",
            "changed_at",
            "effective_on",
            "via",
            "note",
            "source",
        )
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "Numeric identifier of the change; increases with each change recorded."},
            "to_status": {"help_text": "Status after the change."},
            "via": {"help_text": "Through what the change came in: admin, api, import or system."},
            "note": {"help_text": "Note recorded with the change; may be empty."},
        }
