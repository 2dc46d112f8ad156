"""Public pages (thin views; the queries live in the models and the FilterSet)."""

from django.shortcuts import get_object_or_404, render

from .models import Jurisdiction, Program


def home(request):
    program = Program.objects.filter(slug="psp").first() or Program.objects.first()
    return render(request, "jurisdictions/program_detail.html", {"program": program})


def program_detail(request, slug):
    program = get_object_or_404(Program, slug=slug)
    return render(request, "jurisdictions/program_detail.html", {"program": program})


def jurisdiction_list(request):
    jurisdictions = Jurisdiction.objects.with_enrollments()
    return render(request, "jurisdictions/jurisdiction_list.html", {"jurisdictions": jurisdictions})


def jurisdiction_detail(request, slug):
    jurisdiction = get_object_or_404(Jurisdiction.objects.with_enrollments(), slug=slug)
    return render(request, "jurisdictions/jurisdiction_detail.html", {"jurisdiction": jurisdiction})
