"""Issue 19: an alert made on a Spanish page records its language; its messages (through a real local
SMTP server, aiosmtpd) and the pages their links open are in Spanish. One made in English stays English."""

import re

import pytest

from alerts.models import EmailSubscription
from jurisdictions import services
from tests.alerts_support import SmtpSink, run_worker_once
from tests.factories import EnrollmentFactory, JurisdictionFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
LINK = re.compile(r"http://testserver(/(?:es/)?alerts/(?:confirm|unsubscribe)/[^/\s]+/)")


@pytest.fixture
def smtp(settings):
    with SmtpSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        yield sink


@pytest.fixture
def stockton(psp):
    return EnrollmentFactory(
        jurisdiction=JurisdictionFactory(name="Stockton", state="CA"), status="letter_sent"
    )


def subscribe(client, prefix):
    page = client.get(f"{prefix}/alerts/subscribe/?state=CA")
    assert page.status_code == 200
    response = client.post(
        f"{prefix}/alerts/subscribe/",
        {"email": "lectora@example.org", "frequency": "immediate", "filter": "state=CA"},
    )
    assert response.status_code == 200
    return page.content.decode(), response.content.decode()


def test_a_subscription_made_in_spanish_gets_spanish_messages_and_pages(client, smtp, stockton):
    form, sent = subscribe(client, "/es")
    assert "Avísenme por correo cuando cambie esta lista" in form
    assert "Su dirección de correo electrónico" in form and "Como máximo una vez al día" in form
    assert "Revise su correo electrónico" in sent
    assert EmailSubscription.objects.get().language == "es"

    run_worker_once()
    (confirmation,) = smtp.wait_for(1)
    assert confirmation["Subject"] == "Confirme su alerta de PSP Tracker"
    text = confirmation.get_content()
    assert "Alguien (esperamos que usted) pidió a PSP Tracker" in text
    assert "http://testserver/es/jurisdictions/?state=CA" in text  # the list, in Spanish
    confirm_path, unsubscribe_path = LINK.findall(text)
    assert confirm_path.startswith("/es/alerts/confirm/")
    assert confirmation["List-Unsubscribe"].strip() == f"<http://testserver{unsubscribe_path}>"

    assert "Confirme su alerta" in client.get(confirm_path).content.decode()
    assert "Recibirá un mensaje poco después de cada cambio" in client.post(confirm_path).content.decode()

    services.enrollment_set_status(enrollment=stockton, status="pending", user=None, via="admin")
    run_worker_once()
    (_, digest) = smtp.wait_for(2)
    assert digest["Subject"] == "PSP Tracker: 1 cambio en su lista"
    body = digest.get_content()
    assert "Cambios en su lista (http://testserver/es/jurisdictions/?state=CA):" in body
    assert "Stockton, CA: cambio de estatus en psp: letter_sent -> pending" in body
    assert "Cancelar la suscripción (un clic):" in body

    assert "Detener esta alerta" in client.get(unsubscribe_path).content.decode()
    done = client.post(unsubscribe_path).content.decode()
    assert "La alerta y su dirección fueron eliminadas." in done
    assert not EmailSubscription.objects.exists()


def test_a_subscription_made_in_english_stays_english(client, smtp, stockton):
    subscribe(client, "")
    assert EmailSubscription.objects.get().language == "en"
    run_worker_once()
    (confirmation,) = smtp.wait_for(1)
    assert confirmation["Subject"] == "Confirm your PSP Tracker alert"
    confirm_path, _ = LINK.findall(confirmation.get_content())
    assert confirm_path.startswith("/alerts/confirm/")
    client.post(confirm_path)
    services.enrollment_set_status(enrollment=stockton, status="pending", user=None, via="admin")
    run_worker_once()
    (_, digest) = smtp.wait_for(2)
    assert digest["Subject"] == "PSP Tracker: 1 change in your list"
    assert "Stockton, CA: status changed in psp: letter_sent -> pending" in digest.get_content()
