"""The "copy embed code" snippet of the detail and program pages (templates/includes/embed_code.html)."""

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()

# Heights that show a whole card without an inner scroll bar down to a 320 px wide frame (measured
# in Chromium: Memphis's card is 662 px tall there, the PSP card 535 px); a taller card scrolls.
JURISDICTION_BASE_HEIGHT = 140
PER_PROGRAM_HEIGHT = 540
PROGRAM_HEIGHT = 440


def absolute(request, path):
    """`path` on the public origin (PUBLIC_BASE_URL when set, else the request's own)."""
    base = settings.PUBLIC_BASE_URL
    return f"{base}{path}" if base else request.build_absolute_uri(path)


@register.simple_tag(takes_context=True)
def embed_code(context):
    """{"url", "code"} of the page's card (a jurisdiction's, else a program's); None when the page
    shows neither. `code` is the <iframe> markup, its attributes escaped, for the reader to copy."""
    request = context.get("request")
    jurisdiction = context.get("jurisdiction")
    program = context.get("program")
    if request is None or not (jurisdiction or program):
        return None
    if jurisdiction:
        path = reverse("jurisdictions:jurisdiction-embed", args=[jurisdiction.slug])
        title = _("%(name)s, %(state)s: status in federal partnership programs (PSP Tracker)") % {
            "name": jurisdiction.name,
            "state": jurisdiction.get_state_display(),
        }
        height = JURISDICTION_BASE_HEIGHT + PER_PROGRAM_HEIGHT * max(1, len(context.get("programs") or []))
    else:
        path = reverse("jurisdictions:program-embed", args=[program.slug])
        title = _("%(name)s: jurisdictions by status (PSP Tracker)") % {"name": program.name}
        height = PROGRAM_HEIGHT
    url = absolute(request, path)
    code = format_html(
        '<iframe src="{}" title="{}" width="100%" height="{}" loading="lazy" '
        'style="max-width:32rem;border:0"></iframe>',
        url,
        title,
        height,
    )
    return {"url": url, "path": path, "code": code}
