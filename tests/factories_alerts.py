"""Factories for the alerts app (issue 17)."""

import factory

from alerts.models import EmailSubscription, WebhookSubscription
from tests.factories import StaffUserFactory


class WebhookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookSubscription

    owner = factory.SubFactory(StaffUserFactory)
    target_url = "https://93.184.216.34/hook"  # a public address: no DNS needed in tests
    filter_query = ""
    kinds = factory.LazyFunction(list)


class EmailSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailSubscription

    email = factory.Sequence(lambda n: f"reader{n}@example.org")
    base_url = "http://testserver"
