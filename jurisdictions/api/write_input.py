"""What a staff write through the API accepts (writes.py): the input serializers, and the checks on
a body that DRF would otherwise let pass (unknown fields, wrong JSON types, nesting too deep).
"""

from rest_framework import serializers
from rest_framework.exceptions import ParseError, ValidationError

from .. import services
from ..models import Certification, Enrollment, Jurisdiction, Program, Source, StatusChange

VIA = StatusChange.Via.API  # writes.py uses it too


# -- input ---------------------------------------------------------------------------------------


class SourceInputSerializer(serializers.ModelSerializer):
    """A source by its natural key (title and URL): found, or created when new."""

    class Meta:
        model = Source
        fields = ("title", "publisher", "url", "published_on")
        extra_kwargs = {
            "title": {"help_text": "Title of the document; with the URL, it finds an existing source."},
            "url": {"required": False, "help_text": "Where the document can be read; may be empty."},
            "publisher": {"required": False, "help_text": "Who published the document."},
        }
        validators = []  # an existing (title, url) is found, not refused

    def validate(self, attrs):
        # Nested in a PATCH the serializer is partial too, but a source is always named in full.
        if not attrs.get("title"):
            raise ValidationError({"title": ["This field is required."]})
        return attrs


def resolve_source(values, *, user):
    if values is None:
        return None
    return services.source_find_or_create(user=user, via=VIA, **values)


class EnrollmentWriteSerializer(serializers.ModelSerializer):
    source = SourceInputSerializer(
        required=False, allow_null=True, help_text="The document that reports the status; null for none."
    )
    site_type_source = SourceInputSerializer(
        required=False, allow_null=True, help_text="The document that gives the site type; null for none."
    )

    class Meta:
        model = Enrollment
        fields = (
            "status",
            "site_type",
            "letter_sent_on",
            "response_due_on",
            "joined_on",
            "notes",
            "source",
            "site_type_source",
        )
        extra_kwargs = {
            "notes": {
                "help_text": "Notes on the enrollment, in plain text (at most 10,000 characters).",
                # The model's limit, in the words the admin and the importer use.
                "error_messages": {"max_length": "Ensure this value has at most {max_length} characters."},
            }
        }


class EnrollmentCreateSerializer(EnrollmentWriteSerializer):
    jurisdiction = serializers.SlugRelatedField(
        slug_field="slug", queryset=Jurisdiction.objects.all(), help_text="Slug of the jurisdiction."
    )
    program = serializers.SlugRelatedField(
        slug_field="slug", queryset=Program.objects.all(), help_text="Slug of the program, e.g. psp."
    )

    class Meta(EnrollmentWriteSerializer.Meta):
        fields = ("jurisdiction", "program", *EnrollmentWriteSerializer.Meta.fields)


class CertificationWriteSerializer(serializers.ModelSerializer):
    source = SourceInputSerializer(
        required=False, allow_null=True, help_text="The document the answer rests on; null for none."
    )
    second_source = SourceInputSerializer(
        required=False, allow_null=True, help_text="A second document that says the same; null for none."
    )

    class Meta:
        model = Certification
        fields = (
            "answer",
            "facility_operator",
            "legal_basis",
            "citation",
            "evidence_url",
            "certified_by",
            "certified_on",
            "basis",
            "source",
            "second_source",
        )
        extra_kwargs = {
            "answer": {"help_text": "yes, no, not_applicable (name the facility_operator) or unknown."},
            "basis": {
                "help_text": "certified (the jurisdiction's own statement), reported (a third party) or empty."
            },
        }


class JurisdictionCreateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Jurisdiction
        fields = ("name", "state", "kind", "slug", "geoid", "ocd_id")
        extra_kwargs = {
            "kind": {"help_text": "city, county, state, territory or other."},
            "slug": {"required": False, "help_text": "Defaults to <name>-<state>."},
            "geoid": {"required": False},
            "ocd_id": {"required": False},
        }

    def validate(self, attrs):
        if not attrs.get("slug"):
            attrs["slug"] = Jurisdiction.make_slug(attrs["name"], attrs["state"])
            if Jurisdiction.objects.filter(slug=attrs["slug"]).exists():
                raise ValidationError({"slug": [f"A jurisdiction with the slug “{attrs['slug']}” exists."]})
        if attrs.get("geoid") == "":
            attrs["geoid"] = None
        return attrs


# -- checks on a body ----------------------------------------------------------------------------


def request_body(request):
    """The parsed JSON body. A body nested past Python's recursion limit cannot be parsed: a 400
    saying so, not a server error."""
    try:
        return request.data
    except RecursionError:
        raise ParseError("The JSON body is nested too deeply to be read.") from None


def refuse_unknown_fields(data, serializer_class):
    """DRF ignores fields it does not know; a typo or a read-only field must be named instead."""
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["The body must be a JSON object."]})
    allowed = serializer_class.Meta.fields
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationError(
            {
                name: [f"“{name}” cannot be written here; writable fields: {', '.join(allowed)}."]
                for name in unknown
            }
        )
    source = data.get("source")
    if "source" in allowed and isinstance(source, dict):
        # The schema says additionalProperties: false for the nested source too.
        fields = SourceInputSerializer.Meta.fields
        extra = sorted(set(source) - set(fields))
        if extra:
            raise ValidationError(
                {
                    "source": {
                        name: [f"“{name}” is not a field of a source; fields: {', '.join(fields)}."]
                        for name in extra
                    }
                }
            )


STRING_FIELDS = (serializers.CharField, serializers.ChoiceField, serializers.SlugRelatedField)


def wrong_types(data, serializer, prefix=""):
    """{name: [message]} for each value that is not a JSON string where the schema says string.
    DRF would read 0 as "0"; the schema promises a string, so the API refuses anything else."""
    errors = {}
    for name, value in data.items():
        field = serializer.fields.get(name)
        if field is None or value is None:
            continue
        if isinstance(field, serializers.Serializer):
            if isinstance(value, dict):
                errors.update(wrong_types(value, field, f"{prefix}{name}."))
        elif isinstance(field, STRING_FIELDS) and not isinstance(value, str):
            errors[f"{prefix}{name}"] = [f"Must be a string, not {type(value).__name__}."]
        elif getattr(field, "max_length", None) and len(value) > field.max_length:
            # DRF trims surrounding whitespace before it counts; the schema's maxLength counts what
            # was sent, so the limit is checked here on that.
            message = field.error_messages["max_length"].format(max_length=field.max_length)
            errors[f"{prefix}{name}"] = [message]
    return errors


def refuse_wrong_types(data, serializer):
    errors = wrong_types(data, serializer)
    if errors:
        raise ValidationError(errors)


def as_api_error(exc):
    """A Django ValidationError from a service, as the API's 400 body."""
    if hasattr(exc, "error_dict"):
        return ValidationError(dict(exc.message_dict))
    return ValidationError({"non_field_errors": exc.messages})
