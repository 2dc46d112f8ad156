"""Staff data entry. Every status goes through the participating rule of `Enrollment`, and every
status change is recorded with the staff user who made it."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .models import Certification, Enrollment, Jurisdiction, Program, Requirement, Source, StatusChange


@admin.register(Source)
class SourceAdmin(SimpleHistoryAdmin):
    list_display = ["title", "publisher", "published_on", "url"]
    search_fields = ["title", "publisher", "url"]
    date_hierarchy = "published_on"


class RequirementInline(admin.StackedInline):
    model = Requirement
    extra = 0
    fields = ["order", "code", "title", "text"]


@admin.register(Program)
class ProgramAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "agency", "launched_on", "requirement_count"]
    search_fields = ["name", "slug", "agency"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["source"]
    inlines = [RequirementInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_requirements=Count("requirements"))

    @admin.display(description="requirements", ordering="n_requirements")
    def requirement_count(self, obj):
        return obj.n_requirements


class EnrollmentLinkInline(admin.TabularInline):
    """An overview on the jurisdiction's page; status is changed on the enrollment's own page."""

    model = Enrollment
    extra = 0
    fields = ["program", "status", "site_type", "joined_on", "edit_link"]
    readonly_fields = fields
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="")
    def edit_link(self, obj):
        url = reverse("admin:jurisdictions_enrollment_change", args=[obj.pk])
        return format_html('<a href="{}">Edit status and answers</a>', url)


@admin.register(Jurisdiction)
class JurisdictionAdmin(SimpleHistoryAdmin):
    list_display = ["name", "state", "kind", "slug", "geoid"]
    list_filter = ["state", "kind", "enrollments__program", "enrollments__status"]
    search_fields = ["name", "slug", "geoid"]
    prepopulated_fields = {"slug": ["name", "state"]}
    fields = ["name", "state", "kind", "slug", "geoid", "ocd_id"]
    inlines = [EnrollmentLinkInline]

    def get_search_results(self, request, queryset, search_term):
        # Joining enrollments for the status filter can repeat rows.
        queryset, _ = super().get_search_results(request, queryset, search_term)
        return queryset, True

    def save_model(self, request, obj, form, change):
        if change:
            obj.version += 1
        super().save_model(request, obj, form, change)


class CertificationFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        enrollment = self.instance
        answers = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            # The requirement is read-only in the form, so it comes from the saved row.
            requirement = data.get("requirement") or form.instance.requirement
            if requirement.program_id != enrollment.program_id:
                raise ValidationError(
                    f"“{requirement.code}” is a requirement of another program; remove that row."
                )
            answers[requirement.pk] = data.get("answer")
        # The one rule, applied to the status and answers being saved together.
        errors = Enrollment.participation_errors(
            status=enrollment.status,
            requirements=enrollment.program.requirements.all(),
            answers=answers,
        )
        if errors:
            raise ValidationError(errors)


class CertificationInline(admin.StackedInline):
    model = Certification
    formset = CertificationFormSet
    extra = 0
    can_delete = False
    autocomplete_fields = ["source"]
    fields = [
        "requirement",
        "answer",
        "facility_operator",
        ("legal_basis", "citation"),
        "evidence_url",
        ("certified_by", "certified_on"),
        "source",
    ]

    def has_add_permission(self, request, obj=None):
        # One answer per requirement is created with the enrollment.
        return False

    def get_readonly_fields(self, request, obj=None):
        return ["requirement"]


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    fields = ["changed_at", "from_status", "to_status", "effective_on", "changed_by", "via", "note", "source"]
    readonly_fields = fields
    ordering = ["-changed_at", "-id"]
    verbose_name = "status change"
    verbose_name_plural = "status history"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EnrollmentForm(forms.ModelForm):
    class Meta:
        model = Enrollment
        fields = [
            "jurisdiction",
            "program",
            "status",
            "site_type",
            "letter_sent_on",
            "response_due_on",
            "joined_on",
            "notes",
            "source",
        ]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and cleaned.get("program") and cleaned.get("status"):
            # A new enrollment starts with every answer unknown.
            errors = Enrollment.participation_errors(
                status=cleaned["status"],
                requirements=cleaned["program"].requirements.all(),
                answers={},
            )
            if errors:
                self.add_error("status", errors)
        return cleaned


class AnswersIncompleteFilter(admin.SimpleListFilter):
    title = "answers"
    parameter_name = "answers"

    def lookups(self, request, model_admin):
        return [
            ("incomplete", "Not every requirement answered yes"),
            ("complete", "Every requirement answered yes"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "incomplete":
            return queryset.filter(pk__in=Enrollment.objects.incomplete().values("pk"))
        if self.value() == "complete":
            return queryset.exclude(pk__in=Enrollment.objects.incomplete().values("pk"))
        return queryset


@admin.register(Enrollment)
class EnrollmentAdmin(SimpleHistoryAdmin):
    form = EnrollmentForm
    list_display = ["jurisdiction", "state", "program", "status", "site_type", "answered_yes", "updated_at"]
    list_filter = ["program", "status", "jurisdiction__state", AnswersIncompleteFilter]
    list_select_related = ["jurisdiction", "program"]
    search_fields = ["jurisdiction__name", "jurisdiction__slug"]
    autocomplete_fields = ["jurisdiction", "source"]
    inlines = [CertificationInline, StatusChangeInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_yes=Count("certifications", filter=Q(certifications__answer="yes"), distinct=True),
                n_requirements=Count("program__requirements", distinct=True),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        return ["jurisdiction", "program"] if obj else []

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    @admin.display(ordering="jurisdiction__state")
    def state(self, obj):
        return obj.jurisdiction.state

    @admin.display(description="answered yes")
    def answered_yes(self, obj):
        return f"{obj.n_yes} of {obj.n_requirements}"

    def save_model(self, request, obj, form, change):
        previous = Enrollment.objects.get(pk=obj.pk).status if change else ""
        if change:
            obj.version += 1
        super().save_model(request, obj, form, change)
        if not change:
            services.certifications_create_missing(enrollment=obj)
        if previous != obj.status:
            services.status_change_record(
                enrollment=obj, from_status=previous, user=request.user, via=StatusChange.Via.ADMIN
            )

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for instance in instances:
            instance.version += 1
            instance.save()
        formset.save_m2m()
