"""Feeds of status changes, RSS and Atom: all changes, per program, per jurisdiction, and for any
filtered list (the list's own `JurisdictionFilter` parameters: /jurisdictions/feed/?state=CA).

Each RSS class has an Atom twin (`atom()` below) at the same address plus `atom/`; the page that
shows the same list links both with rel="alternate".
"""

from django.contrib.syndication.views import Feed
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from psp_tracker.middleware import wants_json
from psp_tracker.problems import problem_response

from .filters import JurisdictionFilter
from .models import Enrollment, Jurisdiction, Program, StatusChange
from .translation import localized

FEED_LENGTH = 50


def program_name(change):
    return localized(change.enrollment.program, "name").text


def corrected_on(change):
    return _("Corrected on %(date)s: %(reason)s") % {
        "date": f"{change.changed_at:%Y-%m-%d}",
        "reason": change.correction_reason,
    }


class StatusChangesFeed(Feed):
    feed_type = Rss201rev2Feed
    # Issue 19: feeds exist in English and, under /es/, in Spanish (the feed's language follows).
    title = gettext_lazy("PSP Tracker: status changes")
    description = gettext_lazy(
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

    def as_title(self, text):
        # Feed readers show an RSS title as HTML once the XML is parsed, and Django's generator only
        # XML-escapes it: escaped for HTML here too, a name holding <b> is shown as text. An Atom
        # title is text (no type="html"), so it stays as it is.
        return text if issubclass(self.feed_type, Atom1Feed) else escape(text)

    def item_title(self, item):
        # A correction (issue 14) is not a new event: it says so, and what the corrected fact is.
        if item.correction_of_id:
            return self.as_title(
                _("Correction: %(jurisdiction)s: %(status)s (%(program)s)")
                % {
                    "jurisdiction": item.enrollment.jurisdiction,
                    "status": item.get_to_status_display(),
                    "program": program_name(item),
                }
            )
        origin = item.get_from_status_display() or _("New")
        return self.as_title(
            f"{item.enrollment.jurisdiction}: {origin} → {item.get_to_status_display()} ({program_name(item)})"
        )

    def item_description(self, item):
        parts = [
            _("Status in the %(program)s: %(status)s.")
            % {"program": program_name(item), "status": item.get_to_status_display()}
        ]
        if item.correction_of_id:
            parts.insert(0, corrected_on(item))
        if item.effective_on:
            parts.append(_("Effective %(date)s.") % {"date": f"{item.effective_on:%Y-%m-%d}"})
        parts.append(_("Recorded %(date)s.") % {"date": f"{item.changed_at:%Y-%m-%d}"})
        if item.note:
            parts.append(item.note)
        if item.source:
            parts.append(_("Source: %(source)s.") % {"source": item.source})
        # Feed readers show the description as HTML: what staff typed is text, so escape it.
        return escape(" ".join(parts))

    def item_link(self, item):
        return f"{item.enrollment.jurisdiction.get_absolute_url()}#change-{item.pk}"

    def item_guid(self, item):
        return f"status-change-{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.changed_at

    def item_updateddate(self, item):
        # Atom requires <updated> in every entry; a recorded change is not edited afterwards.
        return item.changed_at

    def item_categories(self, item):
        return [item.enrollment.program.slug, item.to_status]


class ProgramStatusChangesFeed(StatusChangesFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Program, slug=slug)

    def title(self, obj):
        name = localized(obj, "name").text
        return self.as_title(_("PSP Tracker: status changes in the %(program)s") % {"program": name})

    def description(self, obj):
        name = localized(obj, "name").text
        return _("Every recorded change of a jurisdiction's status in the %(program)s, newest first.") % {
            "program": name
        }

    def link(self, obj):
        return obj.get_absolute_url()

    def items(self, obj):
        return self.changes().filter(enrollment__program=obj)[:FEED_LENGTH]


class JurisdictionStatusChangesFeed(StatusChangesFeed):
    """One jurisdiction's changes, in every program."""

    def get_object(self, request, slug):
        return get_object_or_404(Jurisdiction, slug=slug)

    def title(self, obj):
        return self.as_title(_("PSP Tracker: status changes of %(jurisdiction)s") % {"jurisdiction": obj})

    def description(self, obj):
        return _(
            "Every recorded change of the status of %(jurisdiction)s in a federal partnership program, "
            "newest first."
        ) % {"jurisdiction": obj}

    def link(self, obj):
        return obj.get_absolute_url()

    def items(self, obj):
        return self.changes().filter(enrollment__jurisdiction=obj)[:FEED_LENGTH]


class FilteredStatusChangesFeed(StatusChangesFeed):
    """The changes of the jurisdictions a filtered list shows, with the list's parameters
    (/jurisdictions/feed/?state=CA&status=letter_sent). Program, status and answer filters describe
    one enrollment (filters.py), so only that enrollment's changes are included; a bad value or an
    unknown parameter is a 400 naming it, as on the list."""

    def __call__(self, request, *args, **kwargs):
        filterset = JurisdictionFilter(request.GET, queryset=Jurisdiction.objects.all())
        if not filterset.is_valid():
            errors = [(name, message) for name, messages in filterset.errors.items() for message in messages]
            detail = _("Not a filter of the jurisdiction list: ") + "; ".join(f"{n}: {m}" for n, m in errors)
            if wants_json(request):
                return problem_response(400, detail, errors)
            return HttpResponse(detail, status=400, content_type="text/plain; charset=utf-8")
        request.feed_filterset = filterset
        return super().__call__(request, *args, **kwargs)

    def get_object(self, request):
        return request.feed_filterset

    def query(self, filterset):
        return filterset.data.urlencode()

    def title(self, obj):
        query = self.query(obj)
        return self.as_title(
            _("PSP Tracker: status changes of the jurisdictions where %(query)s")
            % {"query": query or _("any")}
        )

    def description(self, obj):
        return _(
            "Every recorded change of status of the jurisdictions the list shows with these filters, "
            "newest first."
        )

    def link(self, obj):
        query = self.query(obj)
        return reverse("jurisdictions:jurisdiction-list") + (f"?{query}" if query else "")

    def items(self, obj):
        enrollments = obj.enrollment_conditions()
        if enrollments is None:
            enrollments = Enrollment.objects.all()
        chosen = enrollments.filter(jurisdiction__in=obj.qs.order_by().values("pk")).values("pk")
        return self.changes().filter(enrollment__in=chosen)[:FEED_LENGTH]


def atom(feed_class):
    """The Atom twin of an RSS feed class: the same items, titles and links."""
    return type(
        f"Atom{feed_class.__name__}",
        (feed_class,),
        {"feed_type": Atom1Feed, "subtitle": feed_class.description},
    )


class CorrectionsFeed(Feed):
    """Every correction of the record (issue 14): what was corrected, when, and why."""

    feed_type = Rss201rev2Feed
    title = gettext_lazy("PSP Tracker: corrections")
    description = gettext_lazy(
        "Every correction of an earlier record in the tracker, newest first, with its reason."
    )

    def link(self):
        return reverse("jurisdictions:corrections")

    def items(self):
        return (
            StatusChange.objects.corrections()
            .select_related("enrollment__jurisdiction", "enrollment__program", "source", "correction_of")
            .order_by("-changed_at", "-id")[:FEED_LENGTH]
        )

    def item_title(self, item):
        return escape(
            _("Correction: %(jurisdiction)s (%(program)s)")
            % {"jurisdiction": item.enrollment.jurisdiction, "program": program_name(item)}
        )

    def item_description(self, item):
        wrong = item.correction_of
        parts = [
            corrected_on(item),
            _("The record of %(date)s said %(wrong)s; the corrected fact is %(right)s.")
            % {
                "date": f"{wrong.changed_at:%Y-%m-%d}",
                "wrong": wrong.get_to_status_display(),
                "right": item.get_to_status_display(),
            },
            _("Source: %(source)s.") % {"source": item.source} if item.source else _("No source recorded."),
        ]
        return escape(" ".join(parts))

    def item_link(self, item):
        return f"{reverse('jurisdictions:corrections')}#correction-{item.pk}"

    def item_guid(self, item):
        return f"correction-{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.changed_at
