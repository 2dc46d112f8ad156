"""The shared FilterSet: exact results for every filter, and a clear error for every bad value."""

import datetime

import pytest
import time_machine
from django.http import QueryDict

from jurisdictions.filters import JurisdictionFilter
from jurisdictions.models import Jurisdiction
from tests.factories import EnrollmentFactory, JurisdictionFactory, ProgramFactory, RequirementFactory

pytestmark = pytest.mark.django_db


def slugs(query):
    f = JurisdictionFilter(QueryDict(query), queryset=Jurisdiction.objects.all())
    assert f.is_valid(), f.errors
    return sorted(f.qs.values_list("slug", flat=True))


def errors(query):
    f = JurisdictionFilter(QueryDict(query), queryset=Jurisdiction.objects.all())
    assert not f.is_valid()
    return f.errors


@pytest.fixture
def cities():
    memphis = EnrollmentFactory(
        status="participating", jurisdiction=JurisdictionFactory(name="Memphis", state="TN")
    )
    jackson = EnrollmentFactory(
        status="participating", jurisdiction=JurisdictionFactory(name="Jackson", state="TN")
    )
    stockton = EnrollmentFactory(
        status="letter_sent",
        jurisdiction=JurisdictionFactory(name="Stockton", state="CA"),
        answers={"facility_access": "yes", "hold_request": "no"},
    )
    JurisdictionFactory(name="Jackson", state="MS")
    shelby = EnrollmentFactory(
        status="pending", jurisdiction=JurisdictionFactory(name="Shelby County", state="TN", kind="county")
    )
    return {"memphis": memphis, "jackson": jackson, "stockton": stockton, "shelby": shelby}


def test_no_filter_returns_everything(cities):
    assert slugs("") == ["jackson-ms", "jackson-tn", "memphis-tn", "shelby-county-tn", "stockton-ca"]


def test_status_filter_accepts_several_values(cities):
    assert slugs("status=participating") == ["jackson-tn", "memphis-tn"]
    assert slugs("status=participating&status=letter_sent") == ["jackson-tn", "memphis-tn", "stockton-ca"]


def test_state_and_kind_filters(cities):
    assert slugs("state=TN") == ["jackson-tn", "memphis-tn", "shelby-county-tn"]
    assert slugs("state=CA&state=MS") == ["jackson-ms", "stockton-ca"]
    assert slugs("kind=county") == ["shelby-county-tn"]


def test_search_matches_part_of_the_name_in_any_case(cities):
    assert slugs("search=JACK") == ["jackson-ms", "jackson-tn"]
    assert slugs("search=ton") == ["stockton-ca"]


def test_answer_filter_binds_requirement_and_answer(cities):
    assert slugs("answer=hold_request:no") == ["stockton-ca"]
    assert slugs("answer=facility_access:yes") == ["jackson-tn", "memphis-tn", "stockton-ca"]
    assert slugs("answer=facility_access:yes&answer=hold_request:yes") == ["jackson-tn", "memphis-tn"]


def test_program_status_and_answer_describe_one_enrollment(cities, psp):
    other = ProgramFactory(slug="byrne-jag")
    RequirementFactory(program=other, code="notice")
    EnrollmentFactory(program=other, jurisdiction=cities["stockton"].jurisdiction, status="participating")
    assert slugs("program=psp&status=participating") == ["jackson-tn", "memphis-tn"]
    assert slugs("program=byrne-jag&status=participating") == ["stockton-ca"]
    assert slugs("program=byrne-jag") == ["stockton-ca"]


def test_updated_since_keeps_recent_changes(cities):
    old = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    Jurisdiction.objects.exclude(slug="memphis-tn").update(updated_at=old)
    with time_machine.travel(datetime.datetime(2021, 1, 1, tzinfo=datetime.UTC)):
        assert slugs("updated_since=2020-06-01T00:00:00Z") == ["memphis-tn"]


def test_ordering_by_name_state_and_status(cities):
    def ordered(query):
        f = JurisdictionFilter(QueryDict(query), queryset=Jurisdiction.objects.all())
        assert f.is_valid()
        return list(f.qs.values_list("slug", flat=True))

    assert ordered("ordering=-name")[:2] == ["stockton-ca", "shelby-county-tn"]
    assert ordered("ordering=state") == [
        "stockton-ca",
        "jackson-ms",
        "jackson-tn",
        "memphis-tn",
        "shelby-county-tn",
    ]
    assert ordered("ordering=status") == [
        "jackson-tn",
        "memphis-tn",
        "stockton-ca",
        "shelby-county-tn",
        "jackson-ms",
    ]


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("status=bogus", "status"),
        ("state=ZZ", "state"),
        ("kind=planet", "kind"),
        ("program=nope", "program"),
        ("answer=hold_request:maybe", "answer"),
        ("answer=nothing", "answer"),
        ("updated_since=yesterday", "updated_since"),
        ("ordering=population", "ordering"),
        ("search=" + "x" * 101, "search"),
        ("sttus=participating", "sttus"),
    ],
)
def test_a_bad_value_is_an_error_naming_the_parameter(cities, query, param):
    assert list(errors(query)) == [param]


def test_export_scope_follows_program_and_status(cities):
    f = JurisdictionFilter(QueryDict("program=psp&status=letter_sent"), queryset=Jurisdiction.objects.all())
    # Issue 14: the scope also carries the day of an as_of export (None: today's record).
    assert f.export_scope() == {"programs": ["psp"], "statuses": ["letter_sent"], "as_of": None}
    assert JurisdictionFilter(QueryDict("state=TN")).export_scope() == {
        "programs": None,
        "statuses": None,
        "as_of": None,
    }


def test_each_filterset_has_its_own_filters_bound_to_it(cities):
    first, second = (JurisdictionFilter(QueryDict("search=jack")) for _ in range(2))
    for filterset in (first, second):
        search = filterset.filters["search"]
        # A method filter calls the method of its own FilterSet, not of the first one built.
        assert (search.parent, search.filter.f) == (filterset, search)
    assert first.filters["search"] is not second.filters["search"]
    assert first.filters["program"].extra is not second.filters["program"].extra
    # The declared filters are left as declared.
    declared = JurisdictionFilter.base_filters["search"]
    assert not hasattr(declared, "parent") and not hasattr(declared, "_field")
    assert first.is_valid() and second.is_valid()
    assert sorted(first.qs.values_list("slug", flat=True)) == ["jackson-ms", "jackson-tn"]


def test_each_filterset_form_has_its_own_fields(cities):
    first, second = (JurisdictionFilter(QueryDict("state=TN")) for _ in range(2))
    assert type(first.form) is type(second.form)  # the form class is built once
    assert first.form.fields["state"] is not second.form.fields["state"]
    first.form.fields["state"].choices = [("TN", "Tennessee")]
    assert len(second.form.fields["state"].choices) > 50
    assert len(JurisdictionFilter(QueryDict("")).form.fields["state"].choices) > 50


def test_programs_and_requirements_added_later_are_filters_at_once(cities, psp):
    assert slugs("program=psp") == ["jackson-tn", "memphis-tn", "shelby-county-tn", "stockton-ca"]
    assert list(errors("program=byrne-jag")) == ["program"]
    assert list(errors("answer=notice:yes")) == ["answer"]
    other = ProgramFactory(slug="byrne-jag")
    RequirementFactory(program=other, code="notice")
    EnrollmentFactory(program=other, jurisdiction=cities["memphis"].jurisdiction, answers={"notice": "yes"})
    assert slugs("program=byrne-jag") == ["memphis-tn"]
    assert slugs("answer=notice:yes") == ["memphis-tn"]


# -- the FilterSet's own costs (issue 12: no form for no filter; fields copied without choices) ----


@pytest.mark.parametrize(
    "query", ["", "page=3", "page_size=10&format=json", "cursor=", "state=", "search=%20"]
)
def test_a_query_naming_no_filter_lists_everything_without_building_a_form(cities, query):
    f = JurisdictionFilter(QueryDict(query), queryset=Jurisdiction.objects.all())
    assert f.filters_nothing()
    assert f.is_valid() and f.cleaned() == {}
    assert "form" not in f.__dict__  # neither built nor validated
    assert str(f.qs.query) == str(Jurisdiction.objects.all().query)
    assert f.as_of_day() is None
    assert f.export_scope() == {"programs": None, "statuses": None, "as_of": None}
    # The form, when a page shows it, is still there and valid.
    assert f.form.is_valid()


@pytest.mark.parametrize("query", ["nope=1", "page=2&stat=participating", "state=ZZ", "ordering=-name"])
def test_a_query_naming_a_filter_or_an_unknown_parameter_still_goes_through_the_form(cities, query):
    f = JurisdictionFilter(QueryDict(query), queryset=Jurisdiction.objects.all())
    assert not f.filters_nothing()
    if query == "ordering=-name":
        assert f.is_valid()
        names = list(f.qs.values_list("name", flat=True))
        assert names == sorted(names, reverse=True)
    else:
        assert not f.is_valid() and f.errors


def test_each_filter_form_owns_its_fields_and_widgets_but_shares_declared_choices(cities):
    first = JurisdictionFilter(QueryDict("state=TN"), queryset=Jurisdiction.objects.all()).form
    second = JurisdictionFilter(QueryDict("state=CA"), queryset=Jurisdiction.objects.all()).form
    for name in first.fields:
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].widget is not second.fields[name].widget
        assert first.fields[name].widget.attrs is not second.fields[name].widget.attrs
    first.fields["search"].widget.attrs["data-x"] = "1"
    assert "data-x" not in second.fields["search"].widget.attrs
    assert first.fields["state"].choices is second.fields["state"].choices  # read only, shared
    assert first.is_valid() and second.is_valid()
    assert (list(first.cleaned_data["state"]), list(second.cleaned_data["state"])) == (["TN"], ["CA"])


def test_a_program_made_after_a_form_was_built_is_a_choice_of_the_next_form(cities):
    # A model choice field copies its queryset per form, so no form reads another's stale results.
    JurisdictionFilter(QueryDict("program=psp"), queryset=Jurisdiction.objects.all()).is_valid()
    ProgramFactory(slug="later", name="A later program")
    f = JurisdictionFilter(QueryDict("program=later"), queryset=Jurisdiction.objects.all())
    assert f.is_valid(), f.errors
    assert f.cleaned()["program"].slug == "later"
