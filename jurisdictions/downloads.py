"""Bulk downloads (/downloads/) and the codebook (/data/): the Frictionless Data Package of
transfer/datapackage.py, regenerated per data version.

datapackage.json is built once per data version (versioned.py) and carries the ETag of its bytes.
The CSV files are streamed (a national dataset does not fit a cache entry comfortably); their ETag
stands for the data version and the file, since every committed write moves the version on and the
same version always gives the same bytes (rows in primary-key order).
"""

import datetime
import json

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

from .cache import cache_public_page, data_version
from .etags import etag_for
from .transfer import datapackage
from .versioned import once_per_version


def _conditional(request, response, version):
    response["Last-Modified"] = http_date(version.modified)
    response["Cache-Control"] = "no-cache"
    return get_conditional_response(
        request, etag=response["ETag"], last_modified=version.modified, response=response
    )


def package_json(request):
    version = data_version()

    def build():
        descriptor = datapackage.package_descriptor()
        descriptor["created"] = datetime.datetime.fromtimestamp(version.modified, tz=datetime.UTC).isoformat()
        return json.dumps(descriptor, indent=2, ensure_ascii=False).encode()

    body = once_per_version("datapackage", "json", build)
    response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag_for(body)
    return _conditional(request, response, version)


def table_csv(request, name):
    table = datapackage.table_named(name)
    if table is None:
        raise Http404(f"No file {name}.csv in the data package.")
    version = data_version()
    etag = etag_for(f"{version.token} {table.path}")
    unchanged = get_conditional_response(request, etag=etag, last_modified=version.modified)
    if unchanged is not None:
        unchanged["ETag"] = etag
        return unchanged
    response = StreamingHttpResponse(datapackage.iter_csv(table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{table.path}"'
    response["ETag"] = etag
    return _conditional(request, response, version)


@cache_public_page
def downloads_page(request):
    descriptor = datapackage.package_descriptor(sources=())
    return render(request, "jurisdictions/downloads.html", {"package": descriptor})


@cache_public_page
def codebook(request):
    descriptor = datapackage.package_descriptor()
    return render(request, "jurisdictions/codebook.html", {"package": descriptor})
