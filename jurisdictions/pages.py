"""Public pages beside the record: a document and what cites it, the corrections, the methodology,
and the form to report an error.
"""

from django.conf import settings
from django.db.models import Q
from django.shortcuts import get_object_or_404, render

from psp_tracker.middleware import client_ip
from psp_tracker.ratelimit import Rate, count_hit, too_many_requests

from . import services
from .cache import cache_public_page
from .forms import ErrorReportForm
from .models import (
    Certification,
    Enrollment,
    Jurisdiction,
    Source,
    StatusChange,
)

# -- sources, corrections, methodology -------------------------------------------------------------


@cache_public_page
def source_detail(request, pk):
    """A document and every fact of the tracker that cites it."""
    source = get_object_or_404(Source, pk=pk)
    enrollments = source.enrollments.select_related("jurisdiction", "program").order_by("jurisdiction__name")
    site_types = source.site_type_enrollments.select_related("jurisdiction", "program").order_by(
        "jurisdiction__name"
    )
    answers = (
        Certification.objects.filter(Q(source=source) | Q(second_source=source))
        .select_related("enrollment__jurisdiction", "requirement")
        .order_by("enrollment__jurisdiction__name", "requirement__order")
    )
    changes = source.status_changes.select_related("enrollment__jurisdiction", "enrollment__program")
    return render(
        request,
        "jurisdictions/source_detail.html",
        {
            "source": source,
            "enrollments": enrollments,
            "site_types": site_types,
            "answers": answers,
            "changes": changes,
            "programs": source.programs.all(),
        },
    )


@cache_public_page
def corrections(request):
    """Every correction of the record, newest first, with what it corrected and why."""
    found = (
        StatusChange.objects.corrections()
        .select_related("enrollment__jurisdiction", "enrollment__program", "source", "correction_of")
        .order_by("-changed_at", "-id")
    )
    return render(request, "jurisdictions/corrections.html", {"corrections": found})


@cache_public_page
def methodology(request):
    return render(
        request,
        "jurisdictions/methodology.html",
        {
            "statuses": Enrollment.Status.choices,
            "answers": Certification.Answer.choices,
            "bases": Certification.Basis.choices,
            "kinds": Source.Kind.choices,
        },
    )


# -- report an error (not cached: the form sets a CSRF cookie) -------------------------------------


def report_error(request, slug):
    """A public form whose reports land in the staff queue (admin: Error reports); nothing sent
    here is published without a staff decision."""
    jurisdiction = get_object_or_404(Jurisdiction, slug=slug)
    form = ErrorReportForm(request.POST or None)
    status = 200
    if request.method == "POST":
        wait = None
        if not request.user.is_authenticated:
            wait = count_hit("error-report", client_ip(request), Rate.parse(settings.ERROR_REPORT_RATE))
        if wait is not None:
            return too_many_requests(request, wait, "error reports")
        if form.is_valid():
            services.error_report_submit(
                jurisdiction=jurisdiction,
                message=form.cleaned_data["message"],
                evidence_url=form.cleaned_data["evidence_url"],
                contact=form.cleaned_data["contact"],
            )
            return render(request, "jurisdictions/report_sent.html", {"jurisdiction": jurisdiction})
        status = 400
    return render(
        request, "jurisdictions/report_form.html", {"jurisdiction": jurisdiction, "form": form}, status=status
    )
