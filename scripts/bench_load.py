#!/usr/bin/env python
"""Throughput under concurrent load: the tracker under gunicorn against a raw reference app.

    .venv/bin/python scripts/bench_load.py --size 90000 --generate          # docs/performance.md
    .venv/bin/python scripts/bench_load.py --size 2000 --generate --check   # CI: ratio and query bounds

Uses the database of DATABASE_URL (a database of its own: --generate adds synthetic jurisdictions
up to --size with `generate_jurisdictions`, and nothing else is done to the data: no VACUUM, no
ANALYZE, so a run right after --generate measures the tables as a bulk load leaves them).

Two servers on loopback, both gunicorn with the same worker count (sync workers):
* the tracker (`psp_tracker.wsgi`, production settings, DEBUG off);
* the raw reference (`scripts/raw_wsgi.py`): one psycopg2 query and orjson for the same filtered
  page or jurisdiction.

Each is driven by the same load client (threads, one new connection per request, as gunicorn's sync
workers close it) for --seconds per figure:
* **uncached**: random pages 1..--max-page and page sizes 48..52 of the filter (--filter,
  status=letter_sent by default), so few requests repeat; the detail takes a random jurisdiction;
* **cached**: one URL again and again.
Printed: requests per second of each, the ratio of the tracker to the reference, and p50/p95.

Before the load, each endpoint's queries are counted in-process (Django's test client: uncached
with the data version moved on, then cached). --check fails only when a ratio falls below, or a
query count rises above, its bound (BOUNDS), never on absolute times.
"""

import argparse
import datetime
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
HOST = "127.0.0.1"

import bench  # noqa: E402

# Lower bounds of throughput ratios (tracker / raw) and upper bounds of query counts, for --check.
# The ratio bounds are for the CI size (2,000 jurisdictions), where a raw page costs about a
# millisecond and the fixed cost of a Django request weighs most; the targets at 90,000 are 0.67
# (API list), 0.5 (HTML list) and 1 (cached) (docs/performance.md).
BOUNDS = {
    "api_list.uncached_ratio": 0.2,
    "html_list.uncached_ratio": 0.1,
    "api_list.cached_ratio": 0.5,
    "html_list.cached_ratio": 0.5,
    "api_detail.cached_ratio": 0.5,
    # Each count includes the one lookup of the data version row that every public read makes
    # (issue 13: a cached response is served only under the committed version).
    # A list page comes with its count and rows in one statement (rows.listed).
    "api_list.queries": 2,
    "html_list.queries": 9,  # + the map (issue 18), the footer's documents and dates (issue 14)
    "api_detail.queries": 3,
    "api_list.cached_queries": 1,
    "html_list.cached_queries": 1,
    "api_detail.cached_queries": 1,
}
MIN_RATIOS = {"uncached_ratio", "cached_ratio"}


# -- servers ----------------------------------------------------------------------------------------


def server_env():
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="psp_tracker.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECURE="0",
        DJANGO_STATIC_MANIFEST="0",
        DJANGO_ALLOWED_HOSTS=HOST,
        DJANGO_LOG_LEVEL="WARNING",
        # One client address makes every request: no rate limit may refuse it (issue 13's limits).
        API_ANON_RATE="1000000000/day",
        API_USER_RATE="1000000000/day",
        PUBLIC_RATE="1000000000/day",
        PUBLIC_CSV_RATE="1000000000/day",
    )
    env.setdefault("DJANGO_SECRET_KEY", "benchmark-only-secret-key-not-for-production")
    return env


class Server:
    def __init__(self, name, app, port, workers, extra_env=None, pythonpath=None):
        self.name, self.port = name, port
        command = [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            app,
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ]
        if pythonpath:
            command += ["--pythonpath", pythonpath]
        env = server_env()
        env.update(extra_env or {})
        self.log = open(f"/tmp/bench_load-{name}-{port}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait(self, path):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} stopped at start-up; see {self.log.name}")
            try:
                status, _, _ = fetch(self.port, path)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"{self.name} did not answer {path} within 60 s; see {self.log.name}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


# -- load client ------------------------------------------------------------------------------------


def fetch(port, path):
    """GET path over a new connection; (status, bytes, seconds)."""
    start = time.perf_counter()
    with socket.create_connection((HOST, port), timeout=30) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {HOST}\r\nAccept: */*\r\n\r\n".encode())
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    data = b"".join(chunks)
    status = int(data[9:12]) if data[:5] == b"HTTP/" else 0
    return status, len(data), time.perf_counter() - start


def drive(port, paths, seconds, threads):
    """Requests from `paths()` by `threads` threads for `seconds`: rate, p50, p95, errors."""
    latencies, errors = [], []
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def work():
        mine, bad = [], 0
        while time.monotonic() < stop:
            try:
                status, _, elapsed = fetch(port, paths())
            except OSError:
                bad += 1
                continue
            if status != 200:
                bad += 1
            else:
                mine.append(elapsed)
        with lock:
            latencies.extend(mine)
            errors.append(bad)

    start = time.monotonic()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - start
    latencies.sort()

    def p(q):
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 1)

    return {
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": p(0.50),
        "p95_ms": p(0.95),
        "errors": sum(errors),
        "requests": len(latencies),
    }


# -- the run ----------------------------------------------------------------------------------------


def count_queries(cases):
    """Each endpoint's queries per request in-process: uncached (version moved on), then cached."""
    from django.test import Client

    from jurisdictions.cache import bump_data_version

    client = Client()
    found = {}
    for name, url in cases.items():
        bench.get(client, url)
        bump_data_version()
        with bench.counting() as uncached:
            bench.get(client, url)
        with bench.counting() as cached:
            bench.get(client, url)
        found[name] = (uncached.count, cached.count)
    return found


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--generate", action="store_true")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--seconds", type=float, default=8.0, help="Seconds of load per figure (default 8).")
    parser.add_argument("--threads", type=int, default=16, help="Concurrent client threads (default 16).")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of each server (default 2).")
    parser.add_argument(
        "--port", type=int, default=8400, help="Tracker's port; the reference takes the next."
    )
    parser.add_argument("--filter", default="status=letter_sent", help="The list's filter (API parameters).")
    parser.add_argument("--max-page", type=int, default=1000, help="Highest random page (default 1000).")
    parser.add_argument("--check", action="store_true", help="Fail when a bound of BOUNDS is passed.")
    parser.add_argument("--out", default=str(ROOT / "bench-results"))
    args = parser.parse_args()

    bench.setup_django()
    from django.db import connection

    from jurisdictions.filters import JurisdictionFilter
    from jurisdictions.models import Jurisdiction

    size = bench.ensure_size(args.size, args.generate, args.seed)
    from django.http import QueryDict

    filterset = JurisdictionFilter(QueryDict(args.filter), queryset=Jurisdiction.objects.all())
    if not filterset.is_valid():
        raise SystemExit(f"--filter is not valid: {filterset.errors}")
    matching = filterset.qs.count()
    max_page = max(1, min(args.max_page, matching // 52))
    slugs = list(Jurisdiction.objects.filter(enrollments__isnull=False).values_list("slug", flat=True)[:5000])
    rng = random.Random(args.seed)
    q = args.filter
    api, html = f"/api/v1/jurisdictions/?{q}", f"/jurisdictions/?{q}"
    fixed_slug = slugs[len(slugs) // 2]

    def random_page():
        return f"page={rng.randint(1, max_page)}&page_size={rng.randint(48, 52)}"

    # name: (tracker's random URL, tracker's fixed URL, reference's random URL, reference's fixed URL)
    endpoints = {
        "api_list": (
            lambda: f"{api}&{random_page()}",
            lambda: f"{api}&page=2",
            lambda: f"/list?{random_page()}",
            lambda: "/list?page=2",
        ),
        "html_list": (
            lambda: f"{html}&{random_page()}",
            lambda: f"{html}&page=2",
            lambda: f"/list?{random_page()}",
            lambda: "/list?page=2",
        ),
        "api_detail": (
            lambda: f"/api/v1/jurisdictions/{quote(rng.choice(slugs))}/",
            lambda: f"/api/v1/jurisdictions/{quote(fixed_slug)}/",
            lambda: f"/detail?slug={quote(rng.choice(slugs))}",
            lambda: f"/detail?slug={quote(fixed_slug)}",
        ),
    }
    queries = count_queries(
        {
            "api_list": f"{api}&page=3",
            "html_list": f"{html}&page=3",
            "api_detail": endpoints["api_detail"][1](),
        }
    )
    connection.close()

    meta = {
        "jurisdictions": size,
        "matching": matching,
        "database": f"{connection.vendor} {connection.settings_dict.get('NAME')}",
        "when": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(sys.argv),
        "seconds": args.seconds,
        "threads": args.threads,
        "workers": args.workers,
    }
    tracker = Server("tracker", "psp_tracker.wsgi:application", args.port, args.workers)
    raw = Server(
        "raw",
        "raw_wsgi:application",
        args.port + 1,
        args.workers,
        extra_env={"RAW_FILTER": args.filter, "RAW_BASE": f"http://{HOST}:{args.port}"},
        pythonpath=str(ROOT / "scripts"),
    )
    results = {}
    try:
        tracker.wait("/healthz")
        raw.wait("/list?page=1")
        for name, (t_random, t_fixed, r_random, r_fixed) in endpoints.items():
            for server, path in ((tracker, t_fixed()), (raw, r_fixed())):
                fetch(server.port, path)  # warm up each worker's connection and imports
            row = {"queries": queries[name][0], "cached_queries": queries[name][1]}
            for mode, t_paths, r_paths in (("uncached", t_random, r_random), ("cached", t_fixed, r_fixed)):
                mine = drive(tracker.port, t_paths, args.seconds, args.threads)
                reference = drive(raw.port, r_paths, args.seconds, args.threads)
                row[mode] = mine
                row[f"raw_{mode}"] = reference
                row[f"{mode}_ratio"] = round(mine["rps"] / reference["rps"], 2) if reference["rps"] else None
            results[name] = row
    finally:
        tracker.stop()
        raw.stop()

    print(
        f"\nPSP Tracker under load: {size} jurisdictions ({matching} match {args.filter}) on {meta['database']}, "
        f"gunicorn {args.workers} workers each, {args.threads} client threads, {args.seconds:g} s per figure, "
        f"{meta['when']}\n"
    )
    print(
        f"{'endpoint':<11} {'mode':<9} {'req/s':>7} {'raw req/s':>9} {'ratio':>6} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'raw p50':>7} {'raw p95':>7} {'errors':>6} {'queries':>7}"
    )
    for name, row in results.items():
        for mode in ("uncached", "cached"):
            m, r = row[mode], row[f"raw_{mode}"]
            q = row["queries"] if mode == "uncached" else row["cached_queries"]
            # A figure with no successful request is None: shown as "-" (the run then fails below).
            m, r = ({k: "-" if v is None else v for k, v in d.items()} for d in (m, r))
            print(
                f"{name:<11} {mode:<9} {m['rps']:>7} {r['rps']:>9} {row[f'{mode}_ratio'] if row[f'{mode}_ratio'] is not None else '-':>6} {m['p50_ms']:>7} "
                f"{m['p95_ms']:>7} {r['p50_ms']:>7} {r['p95_ms']:>7} {m['errors'] + r['errors']:>6} {q:>7}"
            )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench-load-{datetime.datetime.now(datetime.UTC):%Y%m%dT%H%M%S}-{size}.json"
    path.write_text(json.dumps({"meta": meta, "results": results, "bounds": BOUNDS}, indent=2))
    print(f"\nResults written to {path}")

    failures = [f"{name}: {row[m]['errors'] + row['raw_' + m]['errors']} failed requests ({m})"
                for name, row in results.items() for m in ("uncached", "cached")
                if row[m]["errors"] or row["raw_" + m]["errors"]]  # fmt: skip
    if args.check:
        for key, bound in BOUNDS.items():
            name, _, measure = key.partition(".")
            value = results.get(name, {}).get(measure)
            if value is None:
                continue
            if (value < bound) if measure in MIN_RATIOS else (value > bound):
                failures.append(f"{key} = {value}, bound {bound}")
    if failures:
        print("\nLOAD BENCHMARK FAILED:\n  " + "\n  ".join(failures))
        return 1
    if args.check:
        print("\nLoad benchmark check passed: every ratio and query count is within its bound.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
