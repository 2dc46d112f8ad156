from django import template
from django.urls import reverse

from ..views import saved_filter

register = template.Library()


@register.simple_tag
def alert_subscribe_url(query):
    """The subscribe page for the list `query` (a QueryDict) selects: its filters, no page or sort."""
    saved = saved_filter(query)
    return reverse("alerts:subscribe") + (f"?{saved}" if saved else "")
