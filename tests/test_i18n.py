"""Issue 19: English at the current addresses, Spanish under /es/, and a response cache, ETags and
per-version fragments that never serve one language for the other (in memory and in Redis)."""

import os
import re
import socket
import uuid

import pytest
from django.urls import reverse
from django.utils import translation

from jurisdictions.models import Program, Requirement
from jurisdictions.translation import localized
from tests.factories import EnrollmentFactory, JurisdictionFactory

pytestmark = pytest.mark.django_db

REDIS_URL = f"redis://127.0.0.1:6379/{os.environ.get('PSP_TEST_REDIS_DB', '0')}"
LANG = re.compile(rb'<html lang="([a-z-]+)">')


def _redis_answers():
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(params=["memory", "redis"])
def response_cache(request, settings):
    """The shared cache of public responses: local memory, then the real Redis (REDIS_URL)."""
    if request.param == "redis":
        if not _redis_answers():
            pytest.skip("no Redis on 127.0.0.1:6379")
        settings.CACHES = {
            **settings.CACHES,
            "default": {
                "BACKEND": "psp_tracker.cache_backends.ResilientRedisCache",
                "LOCATION": REDIS_URL,
                # A prefix of its own rather than clear(), which would empty the whole shared
                # database; what it leaves expires with the entries' timeout.
                "KEY_PREFIX": f"psp-test-i18n-{uuid.uuid4().hex}",
                "OPTIONS": dict(settings.REDIS_OPTIONS),
            },
        }
    return request.param


@pytest.fixture
def memphis(django_capture_on_commit_callbacks):
    # Committed (its on-commit callbacks run), so that reads after it may be cached.
    with django_capture_on_commit_callbacks(execute=True):
        return EnrollmentFactory(
            jurisdiction=JurisdictionFactory(name="Memphis", state="TN"), status="letter_sent"
        ).jurisdiction


def lang_of(response):
    return LANG.search(response.content).group(1).decode()


PAGES = ["/", "/programs/", "/jurisdictions/", "/jurisdictions/memphis-tn/", "/methodology/", "/corrections/"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("first", ["es", "en"])
def test_a_warm_cache_never_serves_one_language_for_the_other(client, response_cache, memphis, path, first):
    urls = {"en": path, "es": "/es" + path}
    second = "en" if first == "es" else "es"
    warm = client.get(urls[first])
    assert (warm.status_code, warm["X-Cache"], lang_of(warm)) == (200, "miss", first)
    again = client.get(urls[first])
    assert (again["X-Cache"], again.content) == ("hit", warm.content)

    other = client.get(urls[second])
    assert other.status_code == 200
    assert other["X-Cache"] == "miss"  # its own entry, not the other language's bytes
    assert lang_of(other) == second
    assert other["Content-Language"] == second
    assert other["ETag"] != warm["ETag"]
    # A client holding the other language's ETag is not told "not modified".
    assert client.get(urls[second], HTTP_IF_NONE_MATCH=warm["ETag"]).status_code == 200
    hit = client.get(urls[second])
    assert (hit["X-Cache"], hit.content, lang_of(hit)) == ("hit", other.content, second)


def test_accept_language_never_changes_an_unprefixed_page_nor_its_cached_copy(
    client, response_cache, memphis
):
    asked_spanish = client.get("/jurisdictions/", HTTP_ACCEPT_LANGUAGE="es")
    assert lang_of(asked_spanish) == "en"
    plain = client.get("/jurisdictions/")
    assert (plain["X-Cache"], plain.content) == ("hit", asked_spanish.content)
    # LocaleMiddleware's Vary: Accept-Language on unprefixed pages is the same on a hit as on the
    # miss, and the ETag does not depend on the header: a proxy or browser cache stays right.
    assert "Accept-Language" in plain["Vary"] and plain["Vary"] == asked_spanish["Vary"]
    assert plain["ETag"] == asked_spanish["ETag"]
    assert client.get("/jurisdictions/", HTTP_IF_NONE_MATCH=plain["ETag"]).status_code == 304
    # The Spanish page is only at its own address, whatever the browser asks for.
    assert lang_of(client.get("/es/jurisdictions/", HTTP_ACCEPT_LANGUAGE="en")) == "es"


def test_the_per_version_fragments_are_kept_per_language(client, response_cache, memphis):
    """The filter form's HTML is computed once per data version (versioned.py): per language too."""
    english = client.get("/jurisdictions/").content.decode()
    assert "Sort by" in english
    spanish = client.get("/es/jurisdictions/").content.decode()
    assert "Ordenar por" in spanish and "Sort by" not in spanish
    assert "Sort by" in client.get("/jurisdictions/?state=TN").content.decode()


def test_every_public_page_links_its_other_language_with_the_query_string(client, memphis):
    page = client.get("/jurisdictions/?state=TN&ordering=name").content.decode()
    assert (
        '<link rel="alternate" hreflang="en" href="http://testserver/jurisdictions/?state=TN&amp;ordering=name">'
        in page
    )
    assert (
        '<link rel="alternate" hreflang="es" href="http://testserver/es/jurisdictions/?state=TN&amp;ordering=name">'
        in page
    )
    assert (
        '<link rel="alternate" hreflang="x-default" href="http://testserver/jurisdictions/?state=TN&amp;ordering=name">'
        in page
    )
    # The switcher: a plain link to the same page in the other language, named in that language.
    assert (
        '<a href="/es/jurisdictions/?state=TN&amp;ordering=name" hreflang="es" lang="es">Español</a>' in page
    )
    spanish = client.get("/es/jurisdictions/memphis-tn/").content.decode()
    assert '<a href="/jurisdictions/memphis-tn/" hreflang="en" lang="en">English</a>' in spanish
    assert 'hreflang="x-default" href="http://testserver/jurisdictions/memphis-tn/"' in spanish
    # No cookie: the page stays cacheable.
    assert not client.get("/es/").cookies


def test_a_spanish_404_is_in_spanish_and_links_the_english_address(client):
    response = client.get("/es/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert '<html lang="es">' in body
    assert "Página no encontrada" in body
    assert '<a href="/no-such-page/" hreflang="en" lang="en">English</a>' in body
    assert '<a href="/es/">Ir a la página de inicio</a>' in body
    english = client.get("/no-such-page/").content.decode()
    assert '<html lang="en">' in english and "Page not found" in english


@pytest.mark.parametrize("path", ["/api/v1/jurisdictions/", "/healthz", "/admin/login/"])
def test_the_api_admin_and_health_checks_stay_unprefixed_and_english(client, memphis, path):
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200
    assert response.get("Content-Language", "en") == "en"
    assert client.get("/es" + path).status_code == 404


def test_the_api_words_errors_in_english_whatever_the_browser_asks(client):
    response = client.get("/api/v1/jurisdictions/", {"status": "nope"}, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_the_spanish_forms_post_under_es(client, memphis):
    """The report form and the alert pages accept their POST at their Spanish address too."""
    response = client.post("/es/jurisdictions/memphis-tn/report/", {"message": "short"})
    assert response.status_code == 400
    assert "El informe no se envió" in response.content.decode()
    assert client.post("/es/alerts/subscribe/", {"email": "not an address"}).status_code == 400


def test_statuses_and_answers_read_in_the_page_language(client, memphis):
    spanish = client.get("/es/methodology/").content.decode()
    for label in ("Participa", "Carta enviada", "Pendiente", "No aplica (no administra el centro)"):
        assert label in spanish
    assert "Participating" in client.get("/methodology/").content.decode()


# -- program and requirement texts ------------------------------------------------------------


def test_the_seeded_program_and_requirements_have_a_spanish_translation(psp):
    assert psp.name_es == "Alianza para la Seguridad Pública"
    assert psp.description_es.startswith("Un programa del Departamento de Justicia")
    titles = dict(Requirement.objects.filter(program=psp).values_list("code", "title_es"))
    assert set(titles) == {"facility_access", "release_notice", "hold_request"}
    assert all(titles.values())
    assert all(Requirement.objects.filter(program=psp).values_list("text_es", flat=True))


def test_a_spanish_page_shows_the_translation_beside_the_official_english(client, psp):
    hold = Requirement.objects.get(program=psp, code="hold_request")
    page = client.get("/es/").content.decode()
    assert f"<h3>{hold.title_es}</h3>" in page
    assert f"<p>{hold.text_es}</p>" in page
    assert "Traducción no oficial. La redacción oficial, en inglés:" in page
    # The official wording, verbatim and marked as English.
    assert f'<p lang="en"><strong>{hold.title}</strong></p>' in page
    assert f'<blockquote lang="en"><p>{hold.text}</p></blockquote>' in page
    assert f'<span lang="en">{psp.name}</span>' in page  # "Official name:"
    english = client.get("/").content.decode()
    assert hold.title_es not in english and "unofficial" not in english.lower()


def test_without_a_translation_the_english_is_shown_and_marked_english(client, psp):
    Requirement.objects.filter(program=psp, code="hold_request").update(title_es="", text_es="")
    hold = Requirement.objects.get(program=psp, code="hold_request")
    page = client.get("/es/").content.decode()
    assert f'<h3 lang="en">{hold.title}</h3>' in page
    assert f'<p lang="en">{hold.text}</p>' in page
    with translation.override("es"):
        assert localized(hold, "title").translated is False


def test_the_api_keeps_the_official_english_and_no_spanish_field(client, psp):
    body = client.get("/api/v1/programs/psp/", HTTP_ACCEPT_LANGUAGE="es").json()
    assert body["name"] == "Public Safety Partnership"
    assert {r["title"] for r in body["requirements"]} == set(
        Requirement.objects.filter(program=psp).values_list("title", flat=True)
    )
    assert not [key for key in body if key.endswith("_es")]
    assert not [key for r in body["requirements"] for key in r if key.endswith("_es")]


def test_staff_edit_the_spanish_beside_the_english_in_the_admin(admin_client, psp):
    page = admin_client.get(reverse("admin:jurisdictions_program_change", args=[psp.pk])).content.decode()
    assert 'name="name_es"' in page and 'name="description_es"' in page
    assert 'name="requirements-0-title_es"' in page and 'name="requirements-0-text_es"' in page
    assert Program._meta.get_field("name_es").verbose_name == "name (Spanish)"


def test_a_huge_parameter_is_not_carried_into_the_other_language_link(client):
    page = client.get("/jurisdictions/", {"search": "y" * 5000}).content.decode()
    assert '<link rel="alternate" hreflang="es" href="http://testserver/es/jurisdictions/">' in page


def test_dates_are_worded_in_the_page_language(client, psp):
    assert '<time datetime="2017-06-20">20 de junio de 2017</time>' in client.get("/es/").content.decode()
    assert '<time datetime="2017-06-20">20 June 2017</time>' in client.get("/").content.decode()


def test_a_page_with_a_refused_host_or_too_many_parameters_still_renders_its_error(client, settings):
    assert client.get("/es/", HTTP_HOST="evil.example").status_code == 400
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    query = "&".join(f"p{n}=1" for n in range(10))
    assert client.get(f"/es/jurisdictions/?{query}").status_code == 400


def test_staff_save_a_spanish_title_through_the_program_admin(admin_client, admin_user, psp):
    url = reverse("admin:jurisdictions_program_change", args=[psp.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data["name_es"] = "Alianza para la Seguridad Pública (PSP)"
    requirements = list(psp.requirements.order_by("order", "code"))
    data.update(
        {"requirements-TOTAL_FORMS": len(requirements), "requirements-INITIAL_FORMS": len(requirements)}
    )
    data.update({"requirements-MIN_NUM_FORMS": 0, "requirements-MAX_NUM_FORMS": 1000})
    for i, r in enumerate(requirements):
        fields = {"id": r.pk, "program": psp.pk, "order": r.order, "code": r.code, "title": r.title}
        fields.update({"text": r.text, "title_es": r.title_es, "text_es": r.text_es})
        if r.code == "hold_request":
            fields["title_es"] = "Retener hasta 48 horas a petición escrita del DHS"
        data.update({f"requirements-{i}-{name}": value for name, value in fields.items()})
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    hold = Requirement.objects.get(program=psp, code="hold_request")
    assert hold.title_es == "Retener hasta 48 horas a petición escrita del DHS"
    assert hold.title == "Honor a written DHS request to hold a person up to 48 hours past release"
    assert hold.history.latest().history_user == admin_user  # through the services, audited
    assert Program.objects.get(pk=psp.pk).name_es == "Alianza para la Seguridad Pública (PSP)"
    assert "<h3>Retener hasta 48 horas a petición escrita del DHS</h3>" in client_get_es(admin_client)


def client_get_es(client):
    client.logout()  # the public page, as a reader sees it
    return client.get("/es/").content.decode()
