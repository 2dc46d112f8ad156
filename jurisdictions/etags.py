"""The one ETag computation of the site: every ETag the API, the pages and the response cache send.

An ETag is the MD5 of what it stands for (the body, or for a streamed response, text naming the
data's version and the URL), quoted; the same value Django's `set_response_etag` gives a body, so
ETags already held by clients stay valid. Weak for a streamed response, whose bytes are not hashed.
"""

import hashlib

from django.utils.http import quote_etag


def etag_for(content, *, weak=False):
    """The ETag of `content` (bytes, or text encoded as UTF-8)."""
    if isinstance(content, str):
        content = content.encode()
    tag = quote_etag(hashlib.md5(content, usedforsecurity=False).hexdigest())
    return f"W/{tag}" if weak else tag


def set_etag(response):
    """Give a rendered response the ETag of its body (as `django.utils.cache.set_response_etag`)."""
    if not response.streaming and response.content:
        response.headers["ETag"] = etag_for(response.content)
    return response
