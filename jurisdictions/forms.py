"""Staff forms: the admin's change forms carry the version they were opened with, so that a save
over someone else's newer change is refused instead of silently overwriting it."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Certification, Enrollment, Jurisdiction, Source, StatusChange, web_url_validator

IMPORT_MAX_BYTES = 2 * 1024 * 1024  # kept in the session between preview and confirm


def stale_message(obj, expected_version):
    """A message naming who changed the record last, when and through what."""
    model = type(obj)
    current = model._default_manager.filter(pk=obj.pk).values_list("version", flat=True).first()
    last = obj.history.order_by("-history_date", "-history_id").select_related("history_user").first()
    by = ""
    if last is not None:
        who = last.history_user.get_username() if last.history_user else "the system"
        when = timezone.localtime(last.history_date).strftime("%Y-%m-%d %H:%M")
        by = f" by {who} on {when} (through {last.history_via or 'unknown'})"
    return (
        f"This {model._meta.verbose_name} was changed{by} after you opened this page "
        f"(your version {expected_version}, now {current}); nothing was saved. Reload the page to see "
        "the current values, then apply your change again."
    )


class VersionedModelForm(forms.ModelForm):
    """Adds a hidden `opened_version`: the version the form was opened with, checked again on save."""

    opened_version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={"required": "The form lost its version; reload the page and try again."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.fields["opened_version"].required = False
            self.fields["opened_version"].initial = 1
        else:
            # The live row's version, also when the instance is an old version being reverted to.
            model = type(self.instance)
            current = model._default_manager.filter(pk=self.instance.pk).values_list("version", flat=True)
            self.fields["opened_version"].initial = current.first() or self.instance.version

    def clean(self):
        cleaned = super().clean()
        expected = cleaned.get("opened_version")
        if self.instance.pk is not None and expected is not None:
            model = type(self.instance)
            current = model._default_manager.filter(pk=self.instance.pk).values_list("version", flat=True)
            if current.first() != expected:
                raise ValidationError(stale_message(self.instance, expected), code="stale")
        return cleaned


class JurisdictionForm(VersionedModelForm):
    """A new jurisdiction can be made from a reference place (geography): a blank name, state, kind,
    point or (for a county) GEOID is taken from it. A place's GEOID is not in the reference data:
    staff type it, and the model's rule checks it against the state."""

    FROM_PLACE = ("name", "state", "kind")

    class Meta:
        model = Jurisdiction
        fields = list(services.JURISDICTION_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and "place" in self.fields:
            for name in self.FROM_PLACE:
                self.fields[name].required = False
                self.fields[name].help_text = (
                    f"{self.fields[name].help_text} Left blank: taken from the reference place."
                ).strip()
            if "slug" in self.fields:  # made from the name and state when left blank (Jurisdiction.clean)
                self.fields["slug"].required = False
            if "kind" in self.fields:  # a blank choice, so that a county place can set "county"
                self.fields["kind"].choices = [("", "---------"), *Jurisdiction.Kind.choices]
                self.fields["kind"].initial = ""

    def clean(self):
        from geography.services import jurisdiction_values_from_place

        cleaned = super().clean()
        if self.instance.pk is not None:
            return cleaned
        place = cleaned.get("place")
        if place is not None:
            for name, value in jurisdiction_values_from_place(place).items():
                if name in self.fields and cleaned.get(name) in (None, ""):
                    cleaned[name] = value
        for name in self.FROM_PLACE:
            if name in self.fields and not cleaned.get(name) and name not in self.errors:
                self.add_error(name, "This field is required (or choose a reference place).")
        return cleaned


class EnrollmentForm(VersionedModelForm):
    """The enrollment's change form. The role check needs the acting user: the admin builds the
    form class for each request with `for_user`, so that the user is given, not attached later."""

    user = None

    no_source = forms.BooleanField(
        required=False,
        label="No source for this status",
        help_text="Tick when no document reports the new status: it is shown publicly as "
        "“no source recorded”. A new status never keeps the source of the earlier one.",
    )
    correction_of = forms.ModelChoiceField(
        queryset=StatusChange.objects.none(),
        required=False,
        label="Correction of",
        help_text="When this change corrects an earlier record (it was wrong), pick that record: the "
        "timeline then shows the corrected fact, not a new event.",
    )
    correction_reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why the earlier record was wrong",
        help_text="Shown publicly beside the corrected record.",
    )

    class Meta:
        model = Enrollment
        fields = ["jurisdiction", "program", *services.ENROLLMENT_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["correction_of"].queryset = StatusChange.objects.filter(
                enrollment_id=self.instance.pk
            ).events()

    @classmethod
    def for_user(cls, user):
        return type(cls.__name__, (cls,), {"user": user, "__module__": cls.__module__})

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("status")
        previous = self.instance.status if self.instance.pk else ""
        if status:
            message = services.status_permission_error(
                may_admit=services.may_admit(self.user), from_status=previous, to_status=status
            )
            if message:
                self.add_error("status", message)
        if self.instance.pk is not None and status and status != previous:
            # A new status cites a document chosen with it, or explicitly none (issue 14).
            if cleaned.get("no_source"):
                cleaned["source"] = None
            elif "source" not in self.changed_data or cleaned.get("source") is None:
                self.add_error(
                    "source",
                    "The status changed: choose the document that reports the new status, or tick "
                    "“No source for this status”.",
                )
        if cleaned.get("correction_of") and not (cleaned.get("correction_reason") or "").strip():
            self.add_error("correction_reason", "Say why the earlier record was wrong.")
        if self.instance.pk is None and cleaned.get("program") and status:
            # A new enrollment starts with every answer unknown.
            errors = services.participation_errors(
                status=status, requirements=cleaned["program"].requirements.all(), answers={}
            )
            if errors:
                self.add_error("status", errors)
        return cleaned


class CertificationForm(VersionedModelForm):
    class Meta:
        model = Certification
        fields = ["requirement", *services.CERTIFICATION_FIELDS]


class CertificationFormSet(forms.BaseInlineFormSet):
    """The answers of one enrollment. The rule is applied to the status and the answers being saved
    together; `answer_changes` hands the changes to `services.enrollment_update`."""

    def clean(self):
        super().clean()
        enrollment = self.instance
        answers = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or form.errors:
                continue
            if form.instance.pk is None or form.instance.enrollment_id != enrollment.pk:
                # A row the page never showed (an answer of another enrollment, or none at all).
                raise ValidationError(
                    "An answer row does not belong to this enrollment; reload the page and try again."
                )
            # The requirement is read-only in the form, so it comes from the saved row.
            requirement = form.instance.requirement
            if requirement.program_id != enrollment.program_id:
                raise ValidationError(
                    f"“{requirement.code}” is a requirement of another program; remove that row."
                )
            answers[requirement.pk] = data.get("answer")
        errors = services.participation_errors(
            status=enrollment.status,
            requirements=enrollment.program.requirements.all(),
            answers=answers,
        )
        if errors:
            raise ValidationError(errors)

    def answer_changes(self):
        """{answer id: (opened version, {field: value})} of the answers changed in the form."""
        changes = {}
        for form in self.forms:
            changed = [f for f in form.changed_data if f in services.CERTIFICATION_FIELDS]
            if changed and form.instance.pk:
                data = form.cleaned_data
                changes[form.instance.pk] = (data.get("opened_version"), {f: data[f] for f in changed})
        return changes


class RequirementFormSet(forms.BaseInlineFormSet):
    """A program's requirements. Removing one that enrollments answered is refused here, before
    anything is saved (see `services.requirement_delete_error`)."""

    def clean(self):
        super().clean()
        for form in self.deleted_forms:
            if form.instance.pk:
                message = services.requirement_delete_error(form.instance)
                if message:
                    raise ValidationError(message)


class LetterSentForm(forms.Form):
    """The intermediate page of the "mark letter sent" action."""

    letter_sent_on = forms.DateField(label="Letter sent on", help_text="YYYY-MM-DD, the date on the letter.")
    response_due_on = forms.DateField(
        label="Response due on", required=False, help_text="YYYY-MM-DD; leave blank when none is given."
    )
    note = forms.CharField(label="Note", required=False, max_length=500)
    source = forms.ModelChoiceField(
        queryset=Source.objects.all(),
        required=False,
        label="Source",
        help_text="The document that reports the letter (e.g. the letter itself); empty: no source recorded.",
    )

    def clean(self):
        cleaned = super().clean()
        sent, due = cleaned.get("letter_sent_on"), cleaned.get("response_due_on")
        if sent and due and due < sent:
            self.add_error("response_due_on", "The response date is before the date the letter was sent.")
        if sent and sent > timezone.localdate() + datetime.timedelta(days=1):
            self.add_error("letter_sent_on", "This date is in the future.")
        return cleaned


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"UTF-8 CSV in the importer's columns, at most {IMPORT_MAX_BYTES // 1024 // 1024} MB.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise ValidationError(
                f"The file is {upload.size // 1024} KB; the admin imports files up to "
                f"{IMPORT_MAX_BYTES // 1024 // 1024} MB (use the import_jurisdictions command for more)."
            )
        return upload


class ErrorReportForm(forms.Form):
    """The public "report an error" form: no account; a honeypot field that people never see
    (bots fill it in), and bounded lengths. What is sent goes to the staff queue, never the page."""

    message = forms.CharField(
        label=_("What is wrong?"),
        min_length=10,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": 2000}),
        help_text=_("Which fact, and what the correct fact is (10 to 2,000 characters)."),
    )
    evidence_url = forms.URLField(
        label=_("A document that shows it (web address)"),
        required=False,
        max_length=500,
        assume_scheme="https",
        validators=[web_url_validator],
        help_text=_("Optional. A public document containing the correct fact."),
    )
    contact = forms.EmailField(
        label=_("Your e-mail address"),
        required=False,
        max_length=254,
        help_text=_("Optional, if you would like a reply. Never published."),
    )
    # The honeypot: hidden from people (CSS and aria-hidden), so any value means a bot.
    website = forms.CharField(required=False, max_length=200, label=_("Leave this empty"))

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise ValidationError(_("This field must be left empty."), code="honeypot")
        return ""
