"""The staff queue of error reports: accept one (it becomes a correction of the record it shows
wrong) or dismiss it, each with a reason. Nothing a reader sent is published by itself."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from .. import services
from ..models import Enrollment, ErrorReport, Source, StatusChange
from .base import VIA, error_text


class ErrorReportDecisionForm(forms.ModelForm):
    DECISIONS = [("", "Not decided yet"), ("accept", "Accept: correct a record"), ("dismiss", "Dismiss")]

    decision = forms.ChoiceField(choices=DECISIONS, required=False)
    corrected_record = forms.ModelChoiceField(
        queryset=StatusChange.objects.none(),
        required=False,
        help_text="Accept: the timeline record the report shows wrong.",
    )
    corrected_status = forms.ChoiceField(
        choices=[("", "Withdraw the record (the step did not happen)"), *Enrollment.Status.choices],
        required=False,
        help_text="Accept: the status the record should have given.",
    )
    correction_source = forms.ModelChoiceField(
        queryset=Source.objects.all(),
        required=False,
        help_text="Accept: the document showing the correct fact (empty: no source recorded).",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text="Why: shown publicly with the correction when accepted; kept in the queue when dismissed.",
    )

    class Meta:
        model = ErrorReport
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["corrected_record"].queryset = (
                StatusChange.objects.filter(enrollment__jurisdiction_id=self.instance.jurisdiction_id)
                .events()
                .select_related("enrollment__program")
            )

    def clean(self):
        cleaned = super().clean()
        decision = cleaned.get("decision")
        if decision and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", "Give the reason for the decision.")
        if decision == "accept" and not cleaned.get("corrected_record"):
            self.add_error("corrected_record", "Pick the record the report shows wrong.")
        return cleaned


@admin.register(ErrorReport)
class ErrorReportAdmin(admin.ModelAdmin):
    form = ErrorReportDecisionForm
    list_display = ["jurisdiction", "state", "created_at", "decided_at"]
    list_filter = ["state"]
    search_fields = ["jurisdiction__name", "message"]
    list_select_related = ["jurisdiction"]
    readonly_fields = [
        "jurisdiction",
        "message",
        "evidence_url",
        "contact",
        "created_at",
        "state",
        "decision_reason",
        "decided_at",
        "decided_by",
        "correction",
    ]
    fieldsets = [
        ("Report", {"fields": ["jurisdiction", "message", "evidence_url", "contact", "created_at"]}),
        ("Decision", {"fields": ["state", "decision_reason", "decided_at", "decided_by", "correction"]}),
        (
            "Decide",
            {"fields": ["decision", "corrected_record", "corrected_status", "correction_source", "reason"]},
        ),
    ]

    def has_add_permission(self, request):
        return False  # reports come from the public form

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if data.get("decision") == "accept":
                services.error_report_accept(
                    report=obj,
                    user=request.user,
                    via=VIA,
                    change=data["corrected_record"],
                    reason=data["reason"],
                    status=data.get("corrected_status") or None,
                    source=data.get("correction_source"),
                )
            elif data.get("decision") == "dismiss":
                services.error_report_dismiss(report=obj, user=request.user, reason=data["reason"])
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, f"Nothing was decided: {error_text(exc)}", messages.ERROR)

    def save_related(self, request, form, formsets, change):
        pass
