"""The e-mail alert pages: subscribe (its own small page: the cached list page links here, since a
form with a CSRF cookie cannot be cached), confirm and unsubscribe. Confirm and unsubscribe act on
POST only (a link opened by a mail scanner changes nothing); the message's List-Unsubscribe-Post
header lets a mail client unsubscribe in one click."""

from django.conf import settings
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from psp_tracker.middleware import client_ip
from psp_tracker.ratelimit import Rate, count_hit

from .forms import SubscribeForm
from .models import EmailSubscription
from .services import email as email_service
from .services.webhooks import filter_errors

NOT_SAVED = {"page", "page_size", "format", "ordering", "cursor"}


def saved_filter(query):
    """A list's query string without what does not select rows (page, size, sort, format)."""
    kept = QueryDict(mutable=True)
    for key in sorted(query):
        if key in NOT_SAVED:
            continue
        values = [v for v in query.getlist(key) if v != ""]
        if values:
            kept.setlist(key, values)
    return kept.urlencode()


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request):
    if request.method == "POST":
        form = SubscribeForm(request.POST)
        filter_query = request.POST.get("filter", "")
    else:
        filter_query = saved_filter(request.GET)
        form = SubscribeForm(initial={"filter": filter_query})
    problems = filter_errors(filter_query)
    if problems:
        response = render(request, "alerts/subscribe.html", {"problems": problems}, status=400)
        return _no_store(response)
    if request.method == "POST" and form.is_valid():
        retry_after = count_hit(
            "alert-subscribe", client_ip(request), Rate.parse(settings.ALERT_SUBSCRIBE_RATE)
        )
        if retry_after is not None:
            response = render(request, "alerts/subscribe.html", {"limited": True}, status=429)
            response["Retry-After"] = str(retry_after)
            return _no_store(response)
        base_url = settings.PUBLIC_BASE_URL or request.build_absolute_uri("/").rstrip("/")
        email_service.email_subscribe(
            email=form.cleaned_data["email"],
            filter_query=saved_filter(QueryDict(filter_query)),
            frequency=form.cleaned_data["frequency"],
            base_url=base_url,
            language=get_language(),  # issue 19: its messages in the language of this page
        )
        # The same answer whether or not the address was subscribed already: the page never says
        # which addresses are known.
        return _no_store(render(request, "alerts/subscribe_sent.html"))
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "filter_query": filter_query}
    return _no_store(render(request, "alerts/subscribe.html", context, status=status))


def _subscription(token):
    subscription = EmailSubscription.objects.filter(token=token).first()
    if subscription is None:
        raise Http404(_("No such alert (it may have been removed already)."))
    return subscription


@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token):
    subscription = _subscription(token)
    if request.method == "POST":
        email_service.email_confirm(subscription=subscription)
        return _no_store(render(request, "alerts/confirmed.html", {"subscription": subscription}))
    return _no_store(render(request, "alerts/confirm.html", {"subscription": subscription}))


@csrf_exempt  # RFC 8058 one-click: the mail client POSTs without our cookie; the token authorizes
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    if request.method == "POST":
        subscription = EmailSubscription.objects.filter(token=token).first()
        if subscription is not None:
            email_service.email_unsubscribe(subscription=subscription)
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return HttpResponse(_("Unsubscribed."), content_type="text/plain")
        return _no_store(render(request, "alerts/unsubscribed.html"))
    subscription = _subscription(token)
    return _no_store(render(request, "alerts/unsubscribe.html", {"subscription": subscription}))
