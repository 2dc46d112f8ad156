"""Issue 19: the same page in each language, for the switcher and the hreflang alternates.

Plain links, no cookie: the language is in the address alone (English unprefixed, Spanish under
/es/), so every cached page is right for everyone who asks for its address.
"""

from django import template
from django.conf import settings
from django.core.exceptions import DisallowedHost, SuspiciousOperation
from django.template.defaultfilters import date
from django.urls import translate_url
from django.utils.translation import get_language, get_language_info, pgettext

from jurisdictions.translation import localized as pick

register = template.Library()


def _prefixed(path, code):
    """The path in `code` by its prefix alone: for an address that resolves to nothing (a 404 page),
    where translate_url gives the address back unchanged."""
    default = settings.LANGUAGE_CODE
    bare = path
    for other, _ in settings.LANGUAGES:
        if other != default and (path == f"/{other}" or path.startswith(f"/{other}/")):
            bare = path[len(other) + 1 :] or "/"
            break
    return bare if code == default else f"/{code}{bare}"


# A query value longer than this is not carried over (nor echoed): no filter takes one, and a page
# must not repeat a huge parameter back (the list echoes at most 200 characters of a search).
ECHO_MAX = 200


def _carried_path(request):
    """The path and query string to carry over: the query only when it is one a page would echo."""
    try:
        if any(len(value) > ECHO_MAX for _, values in request.GET.lists() for value in values):
            return request.path
    except SuspiciousOperation:  # too many parameters: the page itself is a 400
        return request.path
    return request.get_full_path()


def _absolute(request, url):
    try:
        return request.build_absolute_uri(url)
    except DisallowedHost:  # the 400 page of a refused Host names no host of its choosing
        return url


def alternates(request):
    """[{code, name, url, absolute_url, current}] for each language, keeping the query string."""
    full_path = _carried_path(request)
    path, sep, query = full_path.partition("?")
    current = get_language()
    links = []
    for code, _ in settings.LANGUAGES:
        url = translate_url(full_path, code)
        if url == full_path and code != current:
            url = _prefixed(path, code) + sep + query
        links.append(
            {
                "code": code,
                "name": get_language_info(code)["name_local"],
                "url": url,
                "absolute_url": _absolute(request, url),
                "current": code == current,
            }
        )
    return links


@register.simple_tag(takes_context=True)
def language_alternates(context):
    """The page in every language; none when rendered without a request (the 500 page)."""
    request = context.get("request")
    return alternates(request) if request is not None else []


@register.filter
def choice_labels(choices):
    """ "a, b, c": the labels of (value, label) choices, in lower case, for a sentence."""
    return ", ".join(str(label).lower() for _, label in choices)


@register.simple_tag
def localized(obj, field):
    """`{% localized requirement "title" as title %}`: title.text, title.lang, title.official,
    title.translated (jurisdictions/translation.py)."""
    return pick(obj, field)


@register.filter
def in_language(obj, field):
    """`{{ program|in_language:"name" }}`: the text alone, in the page's language or English."""
    return pick(obj, field).text


@register.filter(expects_localtime=True)
def long_date(value):
    """A day in words in the page's language: "20 June 2017", "20 de junio de 2017"."""
    return date(value, pgettext("date format", "j F Y"))
