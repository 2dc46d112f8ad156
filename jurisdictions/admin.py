"""Staff data entry.

Every write goes through `services`, which applies the participating rule, the roles (editors enter
data, reviewers admit) and the version check, and records who changed what through the admin.
"""

import base64
import hashlib
import secrets

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .forms import (
    IMPORT_MAX_BYTES,
    CertificationForm,
    CertificationFormSet,
    EnrollmentForm,
    ImportUploadForm,
    JurisdictionForm,
    LetterSentForm,
    RequirementFormSet,
)
from .models import Certification, Enrollment, Jurisdiction, Program, Requirement, Source, StatusChange
from .services.programs import REQUIREMENT_FIELDS
from .transfer.importer import import_jurisdictions

VIA = StatusChange.Via.ADMIN
WRITE_ERRORS = (services.StaleWriteError, ValidationError)
IMPORT_SESSION_KEY = "jurisdictions_import"
IMPORT_PERMISSIONS = [
    f"jurisdictions.{action}_{model}"
    for model in ("jurisdiction", "enrollment", "certification", "source")
    for action in ("add", "change")
]


def error_text(exc):
    return "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


class AuditedAdmin(SimpleHistoryAdmin):
    """History with the door of each change and the fields that changed; deleted records can be
    listed and restored; a save that a service refuses at the last moment (another write won the
    race for the row lock) comes back to the page with the reason instead of an error page."""

    history_list_display = ["history_via"]
    object_history_list_template = "admin/jurisdictions/object_history_list.html"
    change_list_template = "admin/jurisdictions/change_list.html"

    def url_name(self, view):
        return f"{self.opts.app_label}_{self.opts.model_name}_{view}"

    def get_urls(self):
        extra = [
            path(
                "deleted/",
                self.admin_site.admin_view(self.deleted_view),
                name=self.url_name("deleted"),
            ),
            path(
                "deleted/<int:object_id>/restore/",
                self.admin_site.admin_view(self.restore_view),
                name=self.url_name("restore"),
            ),
        ]
        return extra + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "deleted_url": reverse("admin:" + self.url_name("deleted")),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    def _guarded(self, view, request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except WRITE_ERRORS as exc:
            self.message_user(request, f"Nothing was saved: {error_text(exc)}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._guarded(super().changeform_view, request, object_id, form_url, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if not self.model._default_manager.filter(pk=unquote(object_id)).exists():
            self.message_user(
                request,
                "This record is deleted: restore it from the list of deleted records first.",
                messages.WARNING,
            )
            return redirect("admin:" + self.url_name("deleted"))
        return self._guarded(super().history_form_view, request, object_id, version_id, extra_context)

    # -- deleted records -----------------------------------------------------------------------

    def deleted_view(self, request):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"Deleted {self.opts.verbose_name_plural}",
            "opts": self.opts,
            "records": services.deleted_records(self.model),
            "can_restore": self.has_add_permission(request),
            "history_url_name": "admin:" + self.url_name("history"),
            "restore_url_name": "admin:" + self.url_name("restore"),
        }
        return TemplateResponse(request, "admin/jurisdictions/deleted_list.html", context)

    def restore_view(self, request, object_id):
        if request.method != "POST":
            return redirect("admin:" + self.url_name("deleted"))
        if not self.has_add_permission(request):
            raise PermissionDenied
        try:
            instance, restored = services.record_restore(
                model=self.model, object_id=object_id, user=request.user, via=VIA
            )
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, f"Nothing was restored: {error_text(exc)}", messages.ERROR)
            return redirect("admin:" + self.url_name("deleted"))
        others = len(restored) - 1
        self.message_user(
            request,
            f"Restored “{instance}”"
            + (f" with {others} record{'s' if others != 1 else ''} deleted with it." if others else "."),
            messages.SUCCESS,
        )
        return redirect("admin:" + self.url_name("change"), instance.pk)


@admin.register(Source)
class SourceAdmin(AuditedAdmin):
    list_display = ["title", "publisher", "published_on", "url"]
    search_fields = ["title", "publisher", "url"]
    date_hierarchy = "published_on"


class RequirementInline(admin.StackedInline):
    """Adding a requirement gives every enrollment an unknown answer and moves participating ones
    to pending (`services.requirement_create`); removing one that has answers is refused."""

    model = Requirement
    formset = RequirementFormSet
    extra = 0
    fields = ["order", "code", "title", "text"]


@admin.register(Program)
class ProgramAdmin(AuditedAdmin):
    list_display = ["name", "slug", "agency", "launched_on", "requirement_count"]
    search_fields = ["name", "slug", "agency"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["source"]
    inlines = [RequirementInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_requirements=Count("requirements"))

    def save_formset(self, request, form, formset, change):
        """Requirements through the services, so that the participating rule stays true."""
        if formset.model is not Requirement:
            return super().save_formset(request, form, formset, change)
        deleted = [f for f in formset.deleted_forms if f.instance.pk]
        for f in deleted:
            services.requirement_delete(requirement=f.instance, user=request.user, via=VIA)
        formset.new_objects, formset.changed_objects = [], []
        formset.deleted_objects = [f.instance for f in deleted]
        for f in formset.forms:
            if f in formset.deleted_forms or not f.has_changed():
                continue
            values = {name: f.cleaned_data[name] for name in REQUIREMENT_FIELDS if name in f.cleaned_data}
            if f.instance.pk:
                services.requirement_update(requirement=f.instance, user=request.user, via=VIA, **values)
                formset.changed_objects.append((f.instance, f.changed_data))
            else:
                created = services.requirement_create(
                    program=form.instance, user=request.user, via=VIA, **values
                )
                formset.new_objects.append(created)
        return None

    @admin.display(description="requirements", ordering="n_requirements")
    def requirement_count(self, obj):
        return obj.n_requirements


@admin.register(Requirement)
class RequirementAdmin(AuditedAdmin):
    """Requirements are edited on their program's page; this gives them a history and a restore."""

    list_display = ["code", "title", "program", "order"]
    list_filter = ["program"]
    search_fields = ["code", "title"]

    def has_module_permission(self, request):
        return False


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
class JurisdictionAdmin(AuditedAdmin):
    form = JurisdictionForm
    list_display = ["name", "state", "kind", "slug", "geoid"]
    list_filter = ["state", "kind", "enrollments__program", "enrollments__status"]
    search_fields = ["name", "slug", "geoid"]
    prepopulated_fields = {"slug": ["name", "state"]}
    fields = ["name", "state", "kind", "slug", "geoid", "ocd_id", "opened_version"]
    inlines = [EnrollmentLinkInline]

    def get_search_results(self, request, queryset, search_term):
        # Joining enrollments for the status filter can repeat rows.
        queryset, _ = super().get_search_results(request, queryset, search_term)
        return queryset, True

    def save_model(self, request, obj, form, change):
        values = {f: form.cleaned_data[f] for f in services.JURISDICTION_FIELDS if f in form.cleaned_data}
        if change:
            services.jurisdiction_update(
                jurisdiction=obj,
                user=request.user,
                via=VIA,
                expected_version=form.cleaned_data["opened_version"],
                **values,
            )
        else:
            created = services.jurisdiction_create(user=request.user, via=VIA, **values)
            obj.pk, obj.version, obj._state.adding = created.pk, created.version, False

    # -- CSV import ----------------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="jurisdictions_jurisdiction_import",
            ),
            *super().get_urls(),
        ]

    def has_import_permission(self, request):
        return request.user.has_perms(IMPORT_PERMISSIONS)

    def changelist_view(self, request, extra_context=None):
        extra_context = {"can_import": self.has_import_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        """Upload → preview (nothing written) → confirm (written in one transaction, re-checked)."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Import jurisdictions from CSV",
            "opts": self.opts,
            "max_mb": IMPORT_MAX_BYTES // 1024 // 1024,
            "may_admit": services.may_admit(request.user),
        }
        form = ImportUploadForm()
        if request.method == "POST" and "confirm" in request.POST:
            stored = request.session.get(IMPORT_SESSION_KEY)
            if not stored or not secrets.compare_digest(stored["token"], request.POST.get("token", "")):
                self.message_user(
                    request,
                    "The uploaded file is no longer available (it expired, or another upload replaced "
                    "it). Nothing was imported; upload the file again.",
                    messages.ERROR,
                )
                return redirect("admin:jurisdictions_jurisdiction_import")
            data = base64.b64decode(stored["data"])
            preview = import_jurisdictions(data, filename=stored["name"], user=request.user, commit=False)
            if not preview.ok or _fingerprint(preview) != stored["fingerprint"]:
                stored["fingerprint"] = _fingerprint(preview)
                request.session[IMPORT_SESSION_KEY] = stored
                self.message_user(
                    request,
                    "The data changed since the preview was made; nothing was imported. Check the new "
                    "preview below and confirm again.",
                    messages.WARNING,
                )
                return TemplateResponse(
                    request,
                    "admin/jurisdictions/import.html",
                    {**context, "report": preview, "token": stored["token"], "filename": stored["name"]},
                )
            report = import_jurisdictions(data, filename=stored["name"], user=request.user, commit=True)
            if report.applied:
                del request.session[IMPORT_SESSION_KEY]
                self.message_user(
                    request, f"Imported {stored['name']}: {report.summary()}.", messages.SUCCESS
                )
                return redirect("admin:jurisdictions_jurisdiction_changelist")
            context.update({"report": report, "filename": stored["name"]})
            return TemplateResponse(request, "admin/jurisdictions/import.html", context)
        if request.method == "POST":
            form = ImportUploadForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                data = upload.read()
                report = import_jurisdictions(data, filename=upload.name, user=request.user, commit=False)
                token = None
                if report.ok:
                    token = secrets.token_urlsafe(16)
                    request.session[IMPORT_SESSION_KEY] = {
                        "token": token,
                        "name": upload.name,
                        "data": base64.b64encode(data).decode("ascii"),
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "fingerprint": _fingerprint(report),
                    }
                else:
                    request.session.pop(IMPORT_SESSION_KEY, None)
                context.update({"report": report, "token": token, "filename": upload.name})
        context["form"] = form
        return TemplateResponse(request, "admin/jurisdictions/import.html", context)


def _fingerprint(report):
    """What a preview promised, to notice when the database moved between preview and confirm."""
    return [[r.line, r.slug, r.program, r.action, sorted(r.changes)] for r in report.rows]


class CertificationInline(admin.StackedInline):
    model = Certification
    form = CertificationForm
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
    fields = ["changed_at", "from_status", "to_status", "effective_on", "changed_by", "via", "note", "source"]
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
    autocomplete_fields = ["jurisdiction", "program", "source"]
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

    def get_fields(self, request, obj=None):
        fields = ["jurisdiction", "program", *services.ENROLLMENT_FIELDS, "opened_version"]
        return fields

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
                self._update(request, form, answers={})
            return
        values = {f: form.cleaned_data[f] for f in services.ENROLLMENT_FIELDS if f in form.cleaned_data}
        created = services.enrollment_create(
            jurisdiction=form.cleaned_data["jurisdiction"],
            program=form.cleaned_data["program"],
            user=request.user,
            via=VIA,
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

    def _update(self, request, form, *, answers):
        values = {f: form.cleaned_data[f] for f in services.ENROLLMENT_FIELDS if f in form.cleaned_data}
        services.enrollment_update(
            enrollment=form.instance,
            user=request.user,
            via=VIA,
            expected_version=form.cleaned_data["opened_version"],
            certifications=answers,
            **values,
        )

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
