"""Enrollments with their answers (one change, one rule check), status history and actions."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.template.response import TemplateResponse

from .. import services
from ..forms import (
    CertificationForm,
    CertificationFormSet,
    EnrollmentForm,
    LetterSentForm,
)
from ..models import Certification, Enrollment, StatusChange
from .base import VIA, WRITE_ERRORS, AuditedAdmin, error_text


class CertificationInline(admin.StackedInline):
    model = Certification
    form = CertificationForm
    formset = CertificationFormSet
    extra = 0
    can_delete = False
    autocomplete_fields = ["source", "second_source"]
    fields = [
        "requirement",
        "answer",
        "facility_operator",
        ("legal_basis", "citation"),
        "evidence_url",
        ("certified_by", "certified_on"),
        "basis",
        "source",
        "second_source",
        "opened_version",
    ]
    verbose_name = "answer"
    verbose_name_plural = "answers to the program's requirements"

    def has_add_permission(self, request, obj=None):
        # One answer per requirement is created with the enrollment.
        return False

    def get_readonly_fields(self, request, obj=None):
        return ["requirement"]


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    fields = [
        "changed_at",
        "from_status",
        "to_status",
        "effective_on",
        "changed_by",
        "via",
        "note",
        "source",
        "correction_of",
        "correction_reason",
    ]
    readonly_fields = fields
    ordering = ["-changed_at", "-id"]
    verbose_name = "status change"
    verbose_name_plural = "status history"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
class EnrollmentAdmin(AuditedAdmin):
    form = EnrollmentForm
    object_history_template = "admin/jurisdictions/enrollment/object_history.html"
    list_display = ["jurisdiction", "state", "program", "status", "site_type", "answered_yes", "updated_at"]
    list_filter = ["program", "status", "jurisdiction__state", AnswersIncompleteFilter]
    list_select_related = ["jurisdiction", "program"]
    search_fields = ["jurisdiction__name", "jurisdiction__slug"]
    autocomplete_fields = ["jurisdiction", "program", "source", "site_type_source"]
    inlines = [CertificationInline, StatusChangeInline]
    actions = ["mark_letter_sent", "admit"]

    def history_view(self, request, object_id, extra_context=None):
        """The enrollment's own versions, then every version of its answers, with what changed."""
        answers = list(
            Certification.history.filter(enrollment_id=unquote(object_id))
            .select_related("history_user", "requirement")
            .order_by("requirement_id", "-history_date", "-history_id")
        )
        for record in answers:
            previous = record.prev_record
            record.delta = (
                [(c.field, c.old, c.new) for c in record.diff_against(previous).changes]
                if previous is not None
                else []
            )
        context = {"answer_history": answers, **(extra_context or {})}
        return super().history_view(request, object_id, context)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_yes=Count("certifications", filter=Q(certifications__answer="yes"), distinct=True),
                n_requirements=Count("program__requirements", distinct=True),
            )
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        return super().get_form(request, obj, change=change, **kwargs).for_user(request.user)

    def get_readonly_fields(self, request, obj=None):
        return ["jurisdiction", "program"] if obj else []

    def get_fieldsets(self, request, obj=None):
        """The status with what is recorded with its change (its source, a note, or the record it
        corrects) in one group, so that a change of status is entered with its evidence."""
        status = ["status", "source", "status_note"]
        if obj is not None:
            status[2:2] = ["no_source"]
            status += ["correction_of", "correction_reason"]
        details = [f for f in services.ENROLLMENT_FIELDS if f not in status]
        return [
            (None, {"fields": ["jurisdiction", "program"]}),
            (
                "Status and its change",
                {
                    "fields": status,
                    "description": "A new status cites the document that reports it; the source and "
                    "the note are kept with the change in the enrollment's timeline.",
                },
            ),
            ("Dates and details", {"fields": [*details, "opened_version"]}),
        ]

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    @admin.display(ordering="jurisdiction__state")
    def state(self, obj):
        return obj.jurisdiction.state

    @admin.display(description="answered yes")
    def answered_yes(self, obj):
        return f"{obj.n_yes} of {obj.n_requirements}"

    def save_model(self, request, obj, form, change):
        if change:
            # The change form saves the enrollment with its answers, in one step, in
            # `save_related`; a revert (simple-history's page, no inline) saves it here.
            match = request.resolver_match
            if match is not None and match.url_name == self.url_name("simple_history"):
                self._revert(request, form)
            return
        values = {f: form.cleaned_data[f] for f in services.ENROLLMENT_FIELDS if f in form.cleaned_data}
        created = services.enrollment_create(
            jurisdiction=form.cleaned_data["jurisdiction"],
            program=form.cleaned_data["program"],
            user=request.user,
            via=VIA,
            note=form.cleaned_data.get("status_note", ""),
            **values,
        )
        obj.pk, obj.version, obj._state.adding = created.pk, created.version, False

    def save_related(self, request, form, formsets, change):
        """A change of the enrollment and of its answers (the inline) is one `enrollment_update`,
        so that the rule sees the status and the answers together."""
        if not change:
            return
        answers = {}
        for formset in formsets:
            if isinstance(formset, CertificationFormSet):
                answers.update(formset.answer_changes())
        self._update(request, form, answers=answers)
        for formset in formsets:
            # For the admin's change message; the status history is read-only.
            formset.new_objects, formset.deleted_objects = [], []
            formset.changed_objects = [
                (f.instance, f.changed_data) for f in formset.forms if f.has_changed() and f.instance.pk
            ]

    def _update(self, request, form, *, answers, **correction):
        values = {f: form.cleaned_data[f] for f in services.ENROLLMENT_FIELDS if f in form.cleaned_data}
        if form.cleaned_data.get("correction_of") is not None:
            correction = {
                "correction_of": form.cleaned_data["correction_of"],
                "correction_reason": form.cleaned_data.get("correction_reason", ""),
            }
        services.enrollment_update(
            enrollment=form.instance,
            user=request.user,
            via=VIA,
            expected_version=form.cleaned_data["opened_version"],
            certifications=answers,
            note=form.cleaned_data.get("status_note", ""),
            **correction,
            **values,
        )

    def _revert(self, request, form):
        """A revert through the history is a correction of the latest record, not a new event."""
        stored = Enrollment.objects.filter(pk=form.instance.pk).values_list("status", flat=True).first()
        latest = StatusChange.objects.filter(enrollment_id=form.instance.pk).events().first()
        correction = {}
        if latest is not None and stored != form.cleaned_data.get("status"):
            correction = {
                "correction_of": latest,
                "correction_reason": form.cleaned_data.get("correction_reason")
                or "Reverted through the history to an earlier version of the record.",
            }
        self._update(request, form, answers={}, **correction)

    # -- actions -------------------------------------------------------------------------------

    def has_admit_permission(self, request):
        return services.may_admit(request.user)

    @admin.action(description="Mark letter sent (asks for the date)", permissions=["change"])
    def mark_letter_sent(self, request, queryset):
        form = LetterSentForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": "Mark letter sent",
                "opts": self.opts,
                "form": form,
                "enrollments": queryset.select_related("jurisdiction", "program"),
                "action": "mark_letter_sent",
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/jurisdictions/enrollment/mark_letter_sent.html", context)
        done, refused = [], []
        for enrollment in queryset.select_related("jurisdiction", "program"):
            try:
                services.enrollment_mark_letter_sent(
                    enrollment=enrollment,
                    letter_sent_on=form.cleaned_data["letter_sent_on"],
                    response_due_on=form.cleaned_data["response_due_on"],
                    note=form.cleaned_data["note"],
                    source=form.cleaned_data["source"],
                    user=request.user,
                    via=VIA,
                )
                done.append(str(enrollment))
            except (*WRITE_ERRORS, PermissionDenied) as exc:
                refused.append(f"{enrollment}: {error_text(exc)}")
        self._report(request, "Marked letter sent", done, refused)
        return None

    @admin.action(description="Admit as participating (every answer must be yes)", permissions=["admit"])
    def admit(self, request, queryset):
        done, refused = [], []
        for enrollment in queryset.select_related("jurisdiction", "program"):
            if enrollment.status == Enrollment.Status.PARTICIPATING:
                refused.append(f"{enrollment}: it is already participating.")
                continue
            try:
                services.enrollment_admit(enrollment=enrollment, user=request.user, via=VIA)
                done.append(str(enrollment))
            except (*WRITE_ERRORS, PermissionDenied) as exc:
                refused.append(f"{enrollment}: {error_text(exc)}")
        self._report(request, "Admitted as participating", done, refused)

    def _report(self, request, what, done, refused):
        if done:
            self.message_user(request, f"{what}: {len(done)} — {'; '.join(done)}.", messages.SUCCESS)
        for line in refused:
            self.message_user(request, f"Refused {line}", messages.ERROR)
