"""Sources, programs and their requirements (requirements through the services, so that adding
one keeps the participating rule true)."""

from django.contrib import admin
from django.db.models import Count

from .. import services
from ..forms import (
    RequirementFormSet,
)
from ..models import Program, Requirement, Source
from ..services.programs import REQUIREMENT_FIELDS
from .base import VIA, AuditedAdmin


@admin.register(Source)
class SourceAdmin(AuditedAdmin):
    list_display = ["title", "kind", "publisher", "published_on", "url"]
    list_filter = ["kind"]
    search_fields = ["title", "publisher", "url"]
    fields = ["kind", "title", "publisher", "published_on", "url", "archived_url", "quote"]
    date_hierarchy = "published_on"


class RequirementInline(admin.StackedInline):
    """Adding a requirement gives every enrollment an unknown answer and moves participating ones
    to pending (`services.requirement_create`); removing one that has answers is refused."""

    model = Requirement
    formset = RequirementFormSet
    extra = 0
    # The Spanish beside its English (issue 19).
    fields = ["order", "code", ("title", "title_es"), ("text", "text_es")]


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
