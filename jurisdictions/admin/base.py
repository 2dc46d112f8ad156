"""What every admin page of the tracker shares: history with the door of each change, deleted
records listed and restored, and a refused save explained at the top of the form (each reason
with the field or rows it concerns), never an error page."""

from contextvars import ContextVar

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from simple_history.admin import SimpleHistoryAdmin

from .. import services
from ..models import StatusChange

VIA = StatusChange.Via.ADMIN
WRITE_ERRORS = (services.StaleWriteError, ValidationError)


def error_text(exc):
    return "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


# The field errors of a create that lost the race to a twin (`services.DuplicateRecordError`),
# for the form built while the page is shown again in the same request (`AuditedAdmin._guarded`).
refused_fields = ContextVar("refused_fields", default=None)


def with_field_errors(form_class, errors):
    """`form_class` refusing with `errors` ({field: [messages]}) on their fields (a field the form
    lacks: on the whole form), besides its own checks, so that the page shows them in place."""

    def _post_clean(self):
        form_class._post_clean(self)
        for field, refused in errors.items():
            name = field if field in self.fields else None
            have = self.errors.get(name or NON_FIELD_ERRORS, [])
            new = [m for m in refused if m not in have]
            if new:
                self.add_error(name, new)

    return type(
        form_class.__name__, (form_class,), {"_post_clean": _post_clean, "__module__": form_class.__module__}
    )


def row_name(instance, index):
    return str(instance) if instance.pk else f"#{index + 1}"


def refusal_lines(form, inline_formsets):
    """What a refused save shows at the top of the form, in plain words: each field's error with
    the field's label (linked to it), each inline's own errors, and the inline rows to fix (linked
    to them; the rows are marked where they are). Errors of the whole form are left to Django,
    which shows them under its note."""
    lines = []
    for name, errors in form.errors.items():
        if name == NON_FIELD_ERRORS:
            continue
        bound = form[name] if name in form.fields else None
        label = None if bound is None or bound.is_hidden else bound.label
        anchor = bound.id_for_label if label else None
        lines.extend({"label": label, "anchor": anchor, "message": m} for m in errors)
    for inline in inline_formsets:
        formset = inline.formset
        label = capfirst(inline.opts.verbose_name_plural)
        anchor = f"{formset.prefix}-group"
        lines.extend({"label": label, "anchor": anchor, "message": m} for m in formset.non_form_errors())
        rows = [
            (f"{formset.prefix}-{index}", getattr(f, "row_label", "") or row_name(f.instance, index))
            for index, f in enumerate(formset.forms)
            if f.errors
        ]
        if rows:
            message = ngettext(
                "%(count)d row is marked below; correct it:",
                "%(count)d rows are marked below; correct them:",
                len(rows),
            ) % {"count": len(rows)}
            lines.append({"label": label, "anchor": anchor, "message": message, "rows": rows})
    return lines


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
            if isinstance(exc, services.DuplicateRecordError) and refused_fields.get() is None:
                # Another request created the same record a moment ago: the form comes back
                # with what was typed and the refusal on the field(s) it names.
                token = refused_fields.set(exc.message_dict)
                try:
                    return self._guarded(view, request, *args, **kwargs)
                finally:
                    refused_fields.reset(token)
            self.message_user(
                request,
                gettext("Nothing was saved: %(reason)s") % {"reason": error_text(exc)},
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        refused = refused_fields.get()
        return with_field_errors(form, refused) if refused else form

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if context.get("errors"):
            context["refusal"] = refusal_lines(context["adminform"].form, context["inline_admin_formsets"])
        return super().render_change_form(request, context, add, change, form_url, obj)

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
        message = (
            ngettext(
                "Restored “%(record)s” with %(count)d record deleted with it.",
                "Restored “%(record)s” with %(count)d records deleted with it.",
                others,
            )
            if others
            else gettext("Restored “%(record)s”.")
        )
        self.message_user(request, message % {"record": instance, "count": others}, messages.SUCCESS)
        return redirect("admin:" + self.url_name("change"), instance.pk)
