#!/usr/bin/env python
"""What one piece of the read side buys: the same request with the piece on and off, alternating.

    DATABASE_URL=postgres://root@127.0.0.1:5432/perf_bench \\
        .venv/bin/python scripts/bench_pieces.py listed /api/v1/jurisdictions/ --repeat 60

Uncached (the data version moves on before every request), in one process through Django's test
client, like scripts/bench.py (run that first to generate the data). Prints the median of each and
the difference. The pieces (docs/performance.md, "What each piece buys"):

* `listed`: a page read with its rows in one statement (rows.listed) rather than the page, then its
  rows. Put scripts/latency_proxy.py between the app and the database to see what a round trip
  costs where the database is across a network.
* `noform`: no filter form built when the query names no filter (filtersets.StrictFilterSet).
* `fieldcopy`: the filter form's fields copied without their choices (filtersets._Fields).
* `summary`: the words of an answers summary kept per counts and language (models.answers_summary).
"""

import argparse
import copy
import importlib.util
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def switches(piece):
    """(on, off): functions that put the piece in place or take it out."""
    if piece == "listed":
        from jurisdictions import rows, views
        from jurisdictions.api.views import JurisdictionViewSet

        def two_queries(queryset, count=None):
            """The page as model instances, then their rows: what the lists did before."""
            page = list(queryset)
            return rows.listed_of(page), getattr(page[0], count) if count and page else None

        def on():
            JurisdictionViewSet.page_reader = staticmethod(rows.listed)
            views.listed = rows.listed

        def off():
            JurisdictionViewSet.page_reader = staticmethod(two_queries)
            views.listed = two_queries

        return on, off
    if piece == "noform":
        from jurisdictions.filtersets import StrictFilterSet

        kept = StrictFilterSet.filters_nothing
        return (
            lambda: setattr(StrictFilterSet, "filters_nothing", kept),
            lambda: setattr(StrictFilterSet, "filters_nothing", lambda self: False),
        )
    if piece == "fieldcopy":
        from jurisdictions import filtersets

        kept = filtersets._Fields.__deepcopy__

        def deep(self, memo):
            return {name: copy.deepcopy(field, memo) for name, field in self.items()}

        return (
            lambda: setattr(filtersets._Fields, "__deepcopy__", kept),
            lambda: setattr(filtersets._Fields, "__deepcopy__", deep),
        )
    if piece == "summary":
        from jurisdictions.models import certifications

        kept = certifications._summary_words
        return (
            lambda: setattr(certifications, "_summary_words", kept),
            lambda: setattr(certifications, "_summary_words", kept.__wrapped__),
        )
    raise SystemExit(f"Unknown piece {piece!r}.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("piece", choices=["listed", "noform", "fieldcopy", "summary"])
    parser.add_argument("url", help="A path of this app, e.g. /api/v1/jurisdictions/?state=TX")
    parser.add_argument("--repeat", type=int, default=60)
    args = parser.parse_args()
    bench = _bench_module()
    bench.setup_django()
    from django.test import Client

    from jurisdictions.cache import bump_data_version

    client = Client()
    on, off = switches(args.piece)
    for switch in (on, off) * 5:  # warm up both paths
        switch()
        bench.get(client, args.url)
    times = {"on": [], "off": []}
    for _ in range(args.repeat):
        for name, switch in (("on", on), ("off", off)):
            switch()
            bump_data_version()
            start = time.perf_counter()
            bench.get(client, args.url)
            times[name].append(time.perf_counter() - start)
    on()
    with_piece, without = (statistics.median(times[name]) * 1000 for name in ("on", "off"))
    print(
        f"{args.piece} {args.url}: with {with_piece:.2f} ms, without {without:.2f} ms "
        f"(median of {args.repeat} each, uncached): saves {without - with_piece:.2f} ms"
    )


if __name__ == "__main__":
    main()
