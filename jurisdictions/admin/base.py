"""What every admin page of the tracker shares: history with the door of each change, deleted
records listed and restored, and a save refused by a service shown as a message, not an error page."""

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from simple_history.admin import SimpleHistoryAdmin

from .. import services
from ..models import StatusChange

VIA = StatusChange.Via.ADMIN
WRITE_ERRORS = (services.StaleWriteError, ValidationError)


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
