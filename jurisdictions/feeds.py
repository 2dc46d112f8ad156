"""RSS feeds of status changes: one for every program, one per program."""

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Rss201rev2Feed
from django.utils.html import escape

from .models import Program, StatusChange

FEED_LENGTH = 50


class StatusChangesFeed(Feed):
    feed_type = Rss201rev2Feed
    title = "PSP Tracker: status changes"
    description = (
        "Every recorded change of a jurisdiction's status in a federal partnership program, newest first."
    )

    def link(self):
        return reverse("jurisdictions:jurisdiction-list")

    def changes(self):
        return StatusChange.objects.select_related(
            "enrollment__jurisdiction", "enrollment__program", "source"
        )

    def items(self):
        return self.changes()[:FEED_LENGTH]

    def item_title(self, item):
        # Feed readers show an RSS title as HTML once the XML is parsed, and Django's generator only
        # XML-escapes it: escaped for HTML here too, a name holding <b> is shown as text.
        origin = item.get_from_status_display() or "New"
        return escape(
            f"{item.enrollment.jurisdiction}: {origin} → {item.get_to_status_display()} "
            f"({item.enrollment.program.name})"
        )

    def item_description(self, item):
        parts = [f"Status in the {item.enrollment.program.name}: {item.get_to_status_display()}."]
        if item.effective_on:
            parts.append(f"Effective {item.effective_on:%Y-%m-%d}.")
        parts.append(f"Recorded {item.changed_at:%Y-%m-%d}.")
        if item.note:
            parts.append(item.note)
        if item.source:
            parts.append(f"Source: {item.source}.")
        # Feed readers show the description as HTML: what staff typed is text, so escape it.
        return escape(" ".join(parts))

    def item_link(self, item):
        return f"{item.enrollment.jurisdiction.get_absolute_url()}#change-{item.pk}"

    def item_guid(self, item):
        return f"status-change-{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.changed_at

    def item_categories(self, item):
        return [item.enrollment.program.slug, item.to_status]


class ProgramStatusChangesFeed(StatusChangesFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Program, slug=slug)

    def title(self, obj):
        return escape(f"PSP Tracker: status changes in the {obj.name}")

    def description(self, obj):
        return f"Every recorded change of a jurisdiction's status in the {obj.name}, newest first."

    def link(self, obj):
        return obj.get_absolute_url()

    def items(self, obj):
        return self.changes().filter(enrollment__program=obj)[:FEED_LENGTH]


class CorrectionsFeed(Feed):
    """Every correction of the record (issue 14): what was corrected, when, and why."""

    feed_type = Rss201rev2Feed
    title = "PSP Tracker: corrections"
    description = "Every correction of an earlier record in the tracker, newest first, with its reason."

    def link(self):
        return reverse("jurisdictions:corrections")

    def items(self):
        return (
            StatusChange.objects.corrections()
            .select_related("enrollment__jurisdiction", "enrollment__program", "source", "correction_of")
            .order_by("-changed_at", "-id")[:FEED_LENGTH]
        )

    def item_title(self, item):
        return escape(f"Correction: {item.enrollment.jurisdiction} ({item.enrollment.program.name})")

    def item_description(self, item):
        wrong = item.correction_of
        parts = [
            f"Corrected on {item.changed_at:%Y-%m-%d}: {item.correction_reason}",
            f"The record of {wrong.changed_at:%Y-%m-%d} said {wrong.get_to_status_display()}; "
            f"the corrected fact is {item.get_to_status_display()}.",
            f"Source: {item.source}." if item.source else "No source recorded.",
        ]
        return escape(" ".join(parts))

    def item_link(self, item):
        return f"{reverse('jurisdictions:corrections')}#correction-{item.pk}"

    def item_guid(self, item):
        return f"correction-{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.changed_at
