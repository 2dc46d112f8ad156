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
"""

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="A path of the app, with its query string.")
    parser.add_argument("--repeat", type=int, default=10, help="Requests counted (default 10).")
    args = parser.parse_args()

    spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
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


if __name__ == "__main__":
    main()
