"""Staff forms: the admin's change forms carry the version they were opened with, so that a save
over someone else's newer change is refused instead of silently overwriting it."""

import datetime

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Certification, Enrollment, Jurisdiction, Source, StatusChange, web_url_validator


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
    status_note = forms.CharField(
        required=False,
        max_length=services.STATUS_NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Note on the status change",
        help_text="Recorded with the new status (or the correction) and shown publicly in its "
        f"timeline; at most {services.STATUS_NOTE_MAX_LENGTH:,} characters. The enrollment's own "
        "notes are below.",
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

    def _post_clean(self):
        super()._post_clean()
        # The model refuses a second enrollment of the pair as an error of the whole form; it
        # belongs to the program chosen, in the services' words.
        refused = self.errors.get(NON_FIELD_ERRORS)
        if refused and any(e.code == "unique_together" for e in refused.as_data()):
            kept = [e for e in refused.as_data() if e.code != "unique_together"]
            if kept:
                self._errors[NON_FIELD_ERRORS] = self.error_class(kept, error_class="nonfield")
            else:
                del self._errors[NON_FIELD_ERRORS]
            jurisdiction, program = self.cleaned_data.get("jurisdiction"), self.cleaned_data.get("program")
            self.add_error(
                "program" if program else None,
                services.enrollment_exists_message(jurisdiction=jurisdiction, program=program),
            )

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
        changes_status = self.instance.pk is None or (status and status != previous)
        if (cleaned.get("status_note") or "").strip() and not (
            changes_status or cleaned.get("correction_of")
        ):
            # Kept only with a status change: refused rather than dropped without a word.
            self.add_error(
                "status_note",
                "A note is recorded with a status change or a correction; the status is unchanged. "
                "Use the enrollment's notes, or leave this empty.",
            )
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

    @property
    def row_label(self):
        """How a refused save names this row: the requirement's title."""
        return f"“{self.instance.requirement.title}”" if self.instance.requirement_id else ""


class CertificationFormSet(forms.BaseInlineFormSet):
    """The answers of one enrollment. The rule is applied to the status and the answers being saved
    together; `answer_changes` hands the changes to `services.enrollment_update`. When the rule
    refuses, each row that stops the status is marked on its answer, so staff see what to fix."""

    RULE_ROW_MESSAGE = "Must be yes for the status participating."

    def clean(self):
        super().clean()
        enrollment = self.instance
        answers = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or form.errors:
                if data and form.instance.pk and "answer" in data:
                    # A row refused for another field still counts with the answer it gives.
                    answers[form.instance.requirement_id] = data["answer"]
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
                    f"“{requirement.title}” is a requirement of another program; remove that row."
                )
            answers[requirement.pk] = data.get("answer")
        rule = {
            "status": enrollment.status,
            "requirements": enrollment.program.requirements.all(),
            "answers": answers,
        }
        unmet = {r.pk for r in services.participation_unmet(**rule)}
        if unmet:
            for form in self.forms:
                if form.instance.requirement_id in unmet and "answer" not in form.errors:
                    form.add_error("answer", self.RULE_ROW_MESSAGE)
            raise ValidationError(services.participation_errors(**rule))

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
    anything is saved (see `services.requirement_delete_error`), and before Django's own check of
    protected rows (in `super().clean()`), which would list every answer instead of saying why."""

    KEPT_ROW_MESSAGE = "Not removed: enrollments have answered this requirement."

    def clean(self):
        refused = []
        for form in self.forms:
            if form.instance.pk and form.is_bound and self._should_delete_form(form):
                message = services.requirement_delete_error(form.instance)
                if message:
                    form.add_error(None, self.KEPT_ROW_MESSAGE)
                    refused.append(message)
        if refused:
            raise ValidationError(refused)
        super().clean()


class LetterSentForm(forms.Form):
    """The intermediate page of the "mark letter sent" action."""

    letter_sent_on = forms.DateField(label="Letter sent on", help_text="YYYY-MM-DD, the date on the letter.")
    response_due_on = forms.DateField(
        label="Response due on", required=False, help_text="YYYY-MM-DD; leave blank when none is given."
    )
    note = forms.CharField(label="Note", required=False, max_length=services.STATUS_NOTE_MAX_LENGTH)
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
