#!/usr/bin/env python
"""Instructions per uncached request, counted by valgrind: a figure that a busy machine cannot move.

    DATABASE_URL=postgres://root@127.0.0.1:5432/perf_bench \\
        valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.out \\
        .venv/bin/python scripts/bench_instructions.py /api/v1/jurisdictions/ --repeat 10

Wall-clock medians on a shared machine move by a third from one run to the next; the instructions
this process runs for the same request move by less than 1 %. They count the app's side only
(Django, DRF, templates, the driver): the database's own work is measured by `scripts/bench.py`
and EXPLAIN. Same setup as bench.py (run it first to generate the data): production-like settings,
Django's test client, and the data version moved on before every request, outside the count.

Only the requests are counted: the script turns callgrind's instrumentation on just before each
request and off just after it (`callgrind_control`), and valgrind prints the total as "Collected".
Divide by --repeat. Run without valgrind it only checks that the URL answers 200.

With --gc (and without valgrind) it times the garbage collector instead: the milliseconds per
request spent in collections, and how many of each generation ran, over --repeat requests (use a
few hundred: a full collection comes about once in a hundred requests).
"""

import argparse
import gc
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="A path of the app, with its query string.")
    parser.add_argument("--repeat", type=int, default=10, help="Requests counted (default 10).")
    parser.add_argument("--gc", action="store_true", help="Time the garbage collector instead.")
    args = parser.parse_args()

    spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    # Hundreds of page requests from one address: past the public rate limit, pages would be 429s.
    os.environ.setdefault("PUBLIC_RATE", "1000000000/minute")
    bench.setup_django()

    from django.test import Client

    from jurisdictions.cache import bump_data_version

    client = Client()
    # Imports, templates, the connection, and CPython's specialising of code that has run a few
    # times: not the request's own work (counts settle after about a dozen requests).
    for _ in range(20):
        bump_data_version()
        response = client.get(args.url)
        if response.status_code != 200:
            sys.exit(f"{args.url} answered {response.status_code}; nothing counted.")

    if args.gc:
        time_collections(lambda: client.get(args.url), bump_data_version, args.repeat)
        return

    control = shutil.which("callgrind_control")
    pid = str(os.getpid())

    def instrument(state):
        if control:
            subprocess.run([control, "-i", state, pid], check=False, capture_output=True)

    for _ in range(args.repeat):
        bump_data_version()
        instrument("on")
        client.get(args.url)
        instrument("off")
    print(f"{args.repeat} uncached requests of {args.url}: divide valgrind's total by {args.repeat}.")


def time_collections(request, before, repeat):
    spent, started = [0.0], [0.0]

    def watch(phase, info):
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - started[0]

    runs = [generation["collections"] for generation in gc.get_stats()]
    gc.callbacks.append(watch)
    try:
        for _ in range(repeat):
            before()
            request()
    finally:
        gc.callbacks.remove(watch)
    runs = [generation["collections"] - n for generation, n in zip(gc.get_stats(), runs, strict=True)]
    print(
        f"{spent[0] * 1000 / repeat:.2f} ms per request in the garbage collector over {repeat} requests; "
        f"collections of generations 0, 1, 2: {runs}; {gc.get_freeze_count()} objects frozen."
    )


if __name__ == "__main__":
    main()
