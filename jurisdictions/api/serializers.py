"""API serializers. Every serializer lists its fields explicitly so a new column never leaks,
and every field carries help_text, which becomes its description in the OpenAPI schema.

Jurisdictions, enrollments and certifications are declared here (the schema) and built by the one
representation of representation.py, for lists, details and write responses alike.

Relations are shown by their stable identifiers (program slug, requirement code, jurisdiction slug);
enrollments and certifications also carry the `url` of their own API resource, which staff write to.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import rows
from ..models import Certification, Enrollment, Jurisdiction, Program, Requirement, Source, StatusChange
from . import representation


class SourceSerializer(serializers.ModelSerializer):
    # Plain text rather than a URI in the schema: it may be empty.
    url = serializers.CharField(
        read_only=True, help_text="Where the document can be read; empty when not recorded."
    )

    class Meta:
        model = Source
        fields = ("kind", "title", "publisher", "url", "published_on", "date_text")
        read_only_fields = fields
        extra_kwargs = {
            "kind": {
                "help_text": "Kind of document: government_document, letter, news_report, "
                "jurisdiction_statement, court_record or other."
            },
            "published_on": {"help_text": "Date of publication; null when the document gives no exact day."},
            "date_text": {
                "help_text": "The date as the document gives it when it has no exact day "
                "(e.g. September 2018); empty otherwise."
            },
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
    second_source = source_field("the answer too (a second document)")

    class Meta:
        model = Certification
        fields = (
            "url",
            "id",
            "requirement",
            "answer",
            "basis",
            "facility_operator",
            "legal_basis",
            "citation",
            "evidence_url",
            "certified_on",
            "certified_by",
            "source",
            "second_source",
            "version",
            "updated_at",
        )
        read_only_fields = ("id", "requirement", "version", "updated_at")
        extra_kwargs = {
            "id": {"help_text": "Numeric identifier of the certification."},
            "basis": {
                "help_text": (
                    "certified (the jurisdiction's own statement), reported (a third party says so, "
                    "see source) or empty (no basis recorded yet)."
                )
            },
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

    def to_representation(self, instance):
        return representation.certification_detail(instance, self.context["request"])


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
    site_type_source = source_field("the site type")
    answers_summary = serializers.CharField(
        read_only=True,
        help_text=(
            "How many requirements are met and on what basis, e.g. “3 of 3 certified” or "
            "“3 of 3 reported as met (not certified by the city)”."
        ),
    )

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
            "site_type_source",
            "answers_summary",
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

    def to_representation(self, instance):
        return representation.enrollment_detail(instance, self.context["request"])


class JurisdictionListSerializer(serializers.ListSerializer):
    """A page of jurisdictions: the one representation (representation.py), one query for all."""

    def to_representation(self, data):
        # A page comes read with its rows (JurisdictionViewSet.page_reader); anything else is read here.
        listed = list(data.all() if hasattr(data, "all") else data)
        if listed and not isinstance(listed[0], rows.Listed):
            listed = rows.listed_of(listed)
        return representation.jurisdictions(listed, self.context["request"], as_of=self.context.get("as_of"))


class JurisdictionSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:jurisdiction-detail",
        lookup_field="slug",
        help_text="This jurisdiction's API resource.",
    )
    page_url = serializers.URLField(read_only=True, help_text="The jurisdiction's public page on this site.")
    enrollments = EnrollmentSerializer(
        many=True, read_only=True, help_text="The jurisdiction's place in each program it is enrolled in."
    )

    class Meta:
        model = Jurisdiction
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

    def to_representation(self, instance):
        return representation.jurisdictions(
            rows.listed_of([instance]), self.context["request"], as_of=self.context.get("as_of")
        )[0]


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
            "correction_of",
            "correction_reason",
        )
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "Numeric identifier of the change; increases with each change recorded."},
            "to_status": {"help_text": "Status after the change."},
            "via": {"help_text": "Through what the change came in: admin, api, import or system."},
            "note": {"help_text": "Note recorded with the change; may be empty."},
            "changed_at": {"help_text": "When the change was recorded in the tracker."},
            "effective_on": {
                "help_text": "Date the status took effect, according to its document; null when not known."
            },
            "correction_of": {
                "help_text": (
                    "Id of the earlier change this one corrects (a correction, not a new event); null "
                    "for an ordinary change."
                )
            },
            "correction_reason": {"help_text": "Why the corrected change was wrong; empty otherwise."},
        }
