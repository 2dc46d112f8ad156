"""Reference places in the admin: looked up (the jurisdiction form's autocomplete, by name and
state), never edited by hand (`load_geography` keeps them equal to their sources)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from .models import Place


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ["name", "state_code", "kind", "geoid", "population", "county", "create_link"]
    list_filter = ["kind", "state"]
    # "memphis tn" finds Memphis, TN: each word must match the name, the USPS code or the state's name.
    search_fields = ["name", "state__usps", "state__name"]
    list_select_related = ["state", "county__state"]
    ordering = ["name", "state__usps"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("state")

    @admin.display(description="State", ordering="state__usps")
    def state_code(self, obj):
        return obj.state.usps

    @admin.display(description="")
    def create_link(self, obj):
        url = reverse("admin:jurisdictions_jurisdiction_add")
        return format_html('<a href="{}?place={}">Create a jurisdiction from it</a>', url, obj.pk)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
