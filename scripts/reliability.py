#!/usr/bin/env python3
"""Reliability run: the app under gunicorn on a throwaway PostgreSQL and a Redis of its own, under
load, through a database restart, Redis stopped and paused, and against hostile input.

    .venv/bin/python scripts/reliability.py --short     # CI: two to three minutes
    .venv/bin/python scripts/reliability.py             # the longer run recorded in docs/deploy.md
    ... --port 8305 --pg-port 5435 --redis-port 6395 --redis-db 0   # the defaults (all configurable)

What it does, all on loopback addresses only:

1. Creates a PostgreSQL cluster of its own (`initdb` into a temporary folder, started with `pg_ctl` on
   its own port and socket folder, as the `postgres` user when run as root), so restarting it never
   disturbs the machine's shared server. Seeds it with synthetic jurisdictions and the real seed file.
2. Starts a redis-server of its own (`--redis-port`, no persistence; never the machine's shared
   Redis) and the app exactly as the web container does (`sh docker/entrypoint.sh`: migrate,
   collectstatic, gunicorn) with the production settings and REDIS_URL pointing at that server.
3. Load: threads request the list, detail, API and CSV endpoints for a fixed time and a bounded count,
   and it reports requests, errors and p50/p95/p99 latency per kind. Any error fails the run.
4. Restart: the same load while PostgreSQL is restarted (`pg_ctl restart -m fast`); it reports how many
   requests failed, how (a clean 503 is expected; a 500 or a dropped connection fails the run), and
   how many seconds after the restart every request succeeds again.
5. Hostile input: NUL bytes, huge and malformed parameters, SQL and HTML injection strings, invalid
   UTF-8, oversized bodies, and bad CSV files posted to the admin's import page. Every answer must be
   a 4xx (a 200 only where the input is harmless text or a form shown again with its errors), never a
   5xx, and the data must not change.

6. The fault phases of scripts/reliability_faults.py (issue 13): Redis stopped, then paused
   (SIGSTOP), in the middle of a load of many clients: no 5xx, /readyz 200 throughout, p95 within
   2x of the same load outside the fault, and a staff write made during the fault is what the very
   next reads show once Redis is back; Host poisoning (a foreign port refused, later responses
   clean); concurrent identical creates (no 5xx); a 100,000-column CSV refused in under a second;
   and the rate limits reached from one address (429 with Retry-After for pages, CSV and the API).
7. Webhooks (scripts/reliability_webhooks.py, issue 17): a partner's receiver down for a minute
   (15 s with --short) while changes are made, PostgreSQL restarts and the task worker is
   restarted; once it is back every event arrives, signed, none lost (repeats allowed and counted).
8. Mail (scripts/reliability_mail.py): the SMTP server the worker sends through (aiosmtpd, a process
   of the run's own) stopped, then paused past EMAIL_TIMEOUT, while readers subscribe through the
   public form under load: no 5xx, p95 within 3x, confirmations kept pending, then each received
   exactly once within a few seconds of the server's return (a hung worker would miss that).

The run's Redis is shut down at the end (its keys go with it), the cluster stopped and its folder
removed. It exits 0 when every check passes, 1 otherwise; `--json FILE` also writes the figures.
"""

import argparse
import glob
import http.client
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only, always
PROXY_HEADERS = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.10"}

PROFILES = {
    # synthetic rows, load seconds, threads, restart-phase seconds, restarts, request cap per phase
    # redis_*: the Redis fault phases (stopped, then paused): seconds of load, seconds of fault, threads.
    "short": {
        "synthetic": 500,
        "load_seconds": 15,
        "threads": 8,
        "restart_seconds": 16,
        "restarts": 1,
        "cap": 20000,
        "redis_seconds": 16,
        "redis_down_seconds": 6,
        "redis_threads": 16,
        "webhook_down_seconds": 15,  # issue 17: the partner's receiver down (reliability_webhooks.py)
        "webhook_backoff": 0.5,
    },
    "long": {
        "synthetic": 5000,
        "load_seconds": 60,
        "threads": 16,
        "restart_seconds": 60,
        "restarts": 3,
        "cap": 200000,
        "redis_seconds": 45,
        "redis_down_seconds": 15,
        "redis_threads": 50,
        "webhook_down_seconds": 60,
        "webhook_backoff": 1.0,
    },
}
# The rates the run sets (README's defaults for the public site; the API's lowered so that the
# throttle phase reaches it quickly while the load, spread over 254 addresses, stays below it).
RATES = {"PUBLIC_RATE": "300/minute", "PUBLIC_CSV_RATE": "30/minute", "API_ANON_RATE": "400/hour"}
RECOVERY_LIMIT_SECONDS = 5.0  # after PostgreSQL accepts connections again


def log(message):
    print(message, flush=True)


# --- The throwaway PostgreSQL cluster ------------------------------------------------------------


def _pg_bin(name):
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not candidates:
        sys.exit(f"FATAL: {name} not found (install PostgreSQL's server package).")
    return candidates[-1]


class Cluster:
    """A PostgreSQL cluster in a temporary folder, on its own port and socket folder."""

    def __init__(self, port):
        self.port = port
        self.folder = Path(tempfile.mkdtemp(prefix="psp-reliability-pg-"))
        self.data = self.folder / "data"
        self.logfile = self.folder / "postgres.log"
        self.as_postgres = os.geteuid() == 0  # PostgreSQL refuses to run as root
        if self.as_postgres:
            shutil.chown(self.folder, user="postgres", group="postgres")

    def _run(self, *command):
        if self.as_postgres:
            command = ("runuser", "-u", "postgres", "--", *command)
        # Output goes to a file, not a pipe: the server that pg_ctl starts would hold a pipe open.
        with open(self.folder / "commands.log", "a+") as out:
            start = out.tell()
            result = subprocess.run(
                command, cwd=self.folder, stdout=out, stderr=subprocess.STDOUT, check=False
            )
            out.seek(start)
            result.stdout = out.read()
        return result

    def _check(self, result, what):
        if result.returncode != 0:
            raise RuntimeError(f"{what} failed:\n{result.stdout}")

    def start(self):
        with socket.socket() as probe:
            if probe.connect_ex((HOST, self.port)) == 0:
                raise RuntimeError(f"port {self.port} is in use; choose another with --pg-port")
        self._check(
            self._run(
                _pg_bin("initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ),
            "initdb",
        )
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses={HOST} -c fsync=off -c max_connections=100"
        )
        self._check(
            self._run(
                _pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.logfile), "-o", options, "-w", "start"
            ),
            "pg_ctl start",
        )

    def restart(self):
        # pg_ctl reuses the start options (postmaster.opts); -w waits until it accepts connections.
        self._check(
            self._run(
                _pg_bin("pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.logfile),
                "-m",
                "fast",
                "-w",
                "restart",
            ),
            "pg_ctl restart",
        )

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database="psp"):
        return f"postgres://postgres@{HOST}:{self.port}/{database}"

    def query(self, sql, database="psp"):
        import psycopg2

        connection = psycopg2.connect(host=HOST, port=self.port, user="postgres", dbname=database)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall() if cursor.description else None
        finally:
            connection.close()


# --- HTTP --------------------------------------------------------------------------------------


@dataclass
class Result:
    kind: str
    path: str
    started: float
    ended: float
    status: int | None
    error: str = ""

    @property
    def seconds(self):
        return self.ended - self.started


def fetch(port, method, path, *, headers=None, body=None, timeout=30):
    """One request on a new connection; returns (status, headers, body). Raises on a broken exchange."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers={**PROXY_HEADERS, **(headers or {})})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def fetch_raw(port, raw, timeout=30):
    """Send raw bytes (for requests http.client refuses to build); returns the status code."""
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(raw)
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    match = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return int(match.group(1)) if match else None


def percentile(sorted_values, fraction):
    """Nearest-rank percentile: the smallest value with at least `fraction` of the values at or below it."""
    if not sorted_values:
        return 0.0
    return sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)]


def summarise(results):
    latencies = sorted(r.seconds * 1000 for r in results if r.status == 200)
    return {
        "requests": len(results),
        "errors": sum(1 for r in results if r.status != 200),
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
    }


class Load:
    """Threads that request a weighted mix of pages until a deadline or a request cap."""

    def __init__(self, port, targets, *, threads, seconds, cap):
        self.port, self.targets, self.threads, self.seconds, self.cap = port, targets, threads, seconds, cap
        self.results = []
        self._lock = threading.Lock()
        self._issued = 0

    def _worker(self, seed):
        chooser = random.Random(seed)
        deadline = self.started + self.seconds
        while time.monotonic() < deadline:
            with self._lock:
                if self._issued >= self.cap:
                    return
                self._issued += 1
            kind, path = chooser.choice(self.targets)
            started = time.monotonic()
            try:
                # Many clients, as in real traffic: each request comes "from" one of 254 addresses
                # (documentation range, only ever written in the header; the traffic is loopback).
                client = {"X-Forwarded-For": f"198.51.100.{chooser.randint(1, 254)}"}
                status, _, _ = fetch(self.port, "GET", path, headers=client)
                result = Result(kind, path, started, time.monotonic(), status)
            except (OSError, http.client.HTTPException) as exc:
                result = Result(kind, path, started, time.monotonic(), None, f"{type(exc).__name__}: {exc}")
            with self._lock:
                self.results.append(result)

    def run(self, during=None):
        self.started = time.monotonic()
        workers = [threading.Thread(target=self._worker, args=(i,), daemon=True) for i in range(self.threads)]
        for worker in workers:
            worker.start()
        events = during() if during else {}
        for worker in workers:
            worker.join(timeout=self.seconds + 120)
        return events


# --- The app -----------------------------------------------------------------------------------


@dataclass
class App:
    cluster: Cluster
    port: int
    folder: Path
    env: dict = field(default_factory=dict)
    process: subprocess.Popen | None = None

    def manage(self, *args, check=True):
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def start(self):
        self.logfile = self.folder / "gunicorn.log"
        with open(self.logfile, "w") as out:
            self.process = subprocess.Popen(
                ["sh", "docker/entrypoint.sh"], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the app exited with {self.process.returncode}:\n{self.logfile.read_text()[-3000:]}"
                )
            try:
                if fetch(self.port, "GET", "/readyz", timeout=5)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("the app did not become ready within 120 s")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def prepare(args, profile, redis):
    log(f"== Redis: a server of the run's own on {redis.url}")
    redis.start()
    cluster = Cluster(args.pg_port)
    log(f"== PostgreSQL: throwaway cluster in {cluster.folder} on {HOST}:{args.pg_port}")
    cluster.start()
    cluster.query("CREATE DATABASE psp", database="postgres")
    folder = Path(tempfile.mkdtemp(prefix="psp-reliability-app-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "API_", "DATABASE_URL", "REDIS_", "PUBLIC_"))
    }
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        DATABASE_URL=cluster.url(),
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS=HOST,
        DJANGO_SECURE="1",
        DJANGO_BEHIND_PROXY="1",
        DJANGO_NUM_PROXIES="1",
        DJANGO_STATIC_ROOT=str(folder / "static"),
        DJANGO_LOG_LEVEL="INFO",
        # The load comes "from" 254 client addresses (see Load), each staying below these rates;
        # the throttle phase then exceeds them from one address. DRF applies both the anonymous and
        # the user throttle to anonymous clients: both get the same rate.
        PUBLIC_RATE=RATES["PUBLIC_RATE"],
        PUBLIC_CSV_RATE=RATES["PUBLIC_CSV_RATE"],
        API_ANON_RATE=RATES["API_ANON_RATE"],
        API_USER_RATE=RATES["API_ANON_RATE"],
        # Redis: the run's own server (started and stopped by it); the circuit retries every 2 s.
        REDIS_URL=redis.url,
        REDIS_RETRY_SECONDS="2",
        DJANGO_CACHE_PREFIX=f"psp-reliability-{os.getpid()}",
        GUNICORN_BIND=f"{HOST}:{args.port}",
        PORT=str(args.port),
        WEB_CONCURRENCY=str(args.workers),
        GUNICORN_THREADS=str(args.threads_per_worker),
        DJANGO_SUPERUSER_PASSWORD=secrets.token_urlsafe(24),
        # The webhook phase's receiver listens on loopback; retries start fast to fit the run.
        WEBHOOK_ALLOW_PRIVATE_TARGETS="1",
        WEBHOOK_BACKOFF_SECONDS=str(profile["webhook_backoff"]),
        WEBHOOK_TIMEOUT_SECONDS="2",
        WEBHOOK_CLAIM_MARGIN_SECONDS="2",
    )
    app = App(cluster, args.port, folder, env)
    log("== seeding: migrate, synthetic jurisdictions, the seed file, a staff user")
    app.manage("migrate", "--no-input")
    app.manage("generate_jurisdictions", "--count", str(profile["synthetic"]))
    app.manage("import_jurisdictions", str(ROOT / "data/psp_2017.csv"))
    app.manage(
        "createsuperuser", "--no-input", "--username", "reliability", "--email", "reliability@example.org"
    )
    created = app.manage("drf_create_token", "reliability")
    app.staff_token = re.search(r"token (\w+)", created.stdout).group(1)
    log(f"== starting the app: sh docker/entrypoint.sh on {HOST}:{args.port} (redis: {redis.url})")
    app.start()
    return cluster, app


def targets_for(cluster):
    slugs = [row[0] for row in cluster.query("SELECT slug FROM jurisdictions_jurisdiction ORDER BY id")]
    chooser = random.Random(2017)
    sample = chooser.sample(slugs, min(40, len(slugs)))
    targets = [
        ("list", "/"),
        ("list", "/jurisdictions/"),
        ("list", "/jurisdictions/?state=TN"),
        ("list", "/jurisdictions/?status=participating"),
        ("list", "/jurisdictions/?search=oak&ordering=-updated_at"),
        ("list", "/jurisdictions/?page=2"),
        ("api", "/api/v1/jurisdictions/"),
        ("api", "/api/v1/jurisdictions/?state=CA&page_size=100"),
        ("api", "/api/v1/programs/"),
        ("api", "/api/v1/status-changes/"),
        ("csv", "/jurisdictions/?format=csv&state=TN"),
        ("csv", "/api/v1/jurisdictions/?format=csv&status=participating"),
    ]
    for slug in sample[:20]:
        targets.append(("detail", f"/jurisdictions/{slug}/"))
    for slug in sample[20:]:
        targets.append(("api", f"/api/v1/jurisdictions/{slug}/"))
    return targets


# --- Phase 1: load -------------------------------------------------------------------------------


def phase_load(app, cluster, profile):
    log(
        f"== load: {profile['threads']} threads for {profile['load_seconds']} s (at most {profile['cap']} requests)"
    )
    load = Load(
        app.port,
        targets_for(cluster),
        threads=profile["threads"],
        seconds=profile["load_seconds"],
        cap=profile["cap"],
    )
    load.run()
    figures = {"all": summarise(load.results)}
    for kind in ("list", "detail", "api", "csv"):
        figures[kind] = summarise([r for r in load.results if r.kind == kind])
    elapsed = max(r.ended for r in load.results) - load.started if load.results else 0
    figures["all"]["requests_per_second"] = round(len(load.results) / elapsed, 1) if elapsed else 0
    for name, f in figures.items():
        log(
            f"   {name:7} requests={f['requests']:6} errors={f['errors']} p50={f['p50_ms']} ms p95={f['p95_ms']} ms p99={f['p99_ms']} ms"
        )
    log(f"   throughput {figures['all']['requests_per_second']} requests/s")
    failures = [r for r in load.results if r.status != 200]
    for r in failures[:10]:
        log(f"   FAILED {r.path}: {r.status} {r.error}")
    return figures, not failures and figures["all"]["requests"] > 0


# --- Phase 2: PostgreSQL restart under load -------------------------------------------------------


def phase_restart(app, cluster, profile):
    restarts = profile["restarts"]
    seconds = profile["restart_seconds"]
    log(f"== restart: {profile['threads']} threads for {seconds} s, PostgreSQL restarted {restarts} time(s)")
    load = Load(
        app.port, targets_for(cluster), threads=profile["threads"], seconds=seconds, cap=profile["cap"]
    )
    interval = seconds / (restarts + 1)

    def restart_during_load():
        events = []
        for _ in range(restarts):
            time.sleep(max(0.0, load.started + interval * (len(events) + 1) - time.monotonic()))
            issued = time.monotonic()
            cluster.restart()
            events.append((issued, time.monotonic()))
        return events

    events = load.run(during=restart_during_load)
    ok = True
    figures = {"requests": len(load.results), "restarts": []}
    for number, (issued, accepting) in enumerate(events, 1):
        window_end = events[number][0] if number < len(events) else float("inf")
        window = [r for r in load.results if issued - 1 <= r.ended < window_end]
        failed = [r for r in window if r.status != 200]
        unclean = [r for r in failed if r.status not in (503, None) or (r.status is None and r.kind != "csv")]
        cut_streams = [r for r in failed if r.status is None and r.kind == "csv"]
        last_failure = max((r.ended for r in failed), default=issued)
        after = [r for r in window if r.started > last_failure]
        entry = {
            "restart_seconds": round(accepting - issued, 2),
            "failed_requests": len(failed),
            "answered_503": sum(1 for r in failed if r.status == 503),
            "csv_streams_cut": len(cut_streams),
            "unclean": len(unclean),
            "seconds_until_all_succeed_from_restart": round(max(0.0, last_failure - issued), 2),
            "seconds_until_all_succeed_after_postgres_is_back": round(max(0.0, last_failure - accepting), 2),
            "successful_requests_after": sum(1 for r in after if r.status == 200),
        }
        figures["restarts"].append(entry)
        log(
            f"   restart {number}: PostgreSQL down and back in {entry['restart_seconds']} s; "
            f"{entry['failed_requests']} requests failed ({entry['answered_503']} clean 503, "
            f"{entry['csv_streams_cut']} CSV streams cut, {entry['unclean']} unclean); all succeed again "
            f"{entry['seconds_until_all_succeed_from_restart']} s after the restart began "
            f"({entry['seconds_until_all_succeed_after_postgres_is_back']} s after PostgreSQL was back); "
            f"{entry['successful_requests_after']} successful requests after"
        )
        for r in unclean[:10]:
            log(f"   UNCLEAN {r.path}: {r.status} {r.error}")
        if unclean or entry["seconds_until_all_succeed_after_postgres_is_back"] > RECOVERY_LIMIT_SECONDS:
            ok = False
        if entry["successful_requests_after"] == 0:
            ok = False
    status = fetch(app.port, "GET", "/readyz")[0]
    figures["readyz_after"] = status
    log(f"   /readyz after the restarts: {status}")
    return figures, ok and status == 200 and len(events) == restarts


# --- Phase 3: hostile input ----------------------------------------------------------------------

FOUR_XX = "4xx"
NOT_5XX = "4xx or 200"  # harmless text or a form shown again with its errors
SCRIPT = "<script>alert(1)</script>"
# Refused by gunicorn before Django sees them (request line and header limits, body length): the
# in-process replay in tests/test_reliability.py leaves these out.
SERVER_LIMIT_CASES = {"a URL of 20 kB", "a header of 20 kB", "a lying Content-Length"}


def hostile_requests():
    """(name, method, path, headers, body, expectation). Paths are sent as they are written."""
    big = "a" * 3000
    many = "&".join(f"p{i}=1" for i in range(1500))
    q = urllib.parse.quote
    cases = [
        ("NUL in a choice filter", "GET", "/jurisdictions/?state=%00", {}, None, FOUR_XX),
        ("NUL in the search text", "GET", "/jurisdictions/?search=%00", {}, None, FOUR_XX),
        ("NUL in an API filter", "GET", "/api/v1/jurisdictions/?search=ab%00cd", {}, None, FOUR_XX),
        ("NUL in a page slug", "GET", "/jurisdictions/a%00b/", {}, None, FOUR_XX),
        ("NUL in an API slug", "GET", "/api/v1/jurisdictions/a%00b/", {}, None, FOUR_XX),
        ("NUL in the CSV filter", "GET", "/jurisdictions/?format=csv&kind=%00", {}, None, FOUR_XX),
        ("huge search text", "GET", f"/jurisdictions/?search={big}", {}, None, NOT_5XX),
        ("huge API search text", "GET", f"/api/v1/jurisdictions/?search={big}", {}, None, NOT_5XX),
        ("1500 parameters", "GET", f"/jurisdictions/?{many}", {}, None, FOUR_XX),
        ("a URL of 20 kB", "GET", "/jurisdictions/?search=" + "b" * 20000, {}, None, FOUR_XX),
        ("a header of 20 kB", "GET", "/jurisdictions/", {"X-Padding": "c" * 20000}, None, FOUR_XX),
        ("page number too big", "GET", "/jurisdictions/?page=99999999999999999999999", {}, None, FOUR_XX),
        ("page number negative", "GET", "/api/v1/jurisdictions/?page=-1", {}, None, FOUR_XX),
        ("page size not a number", "GET", "/api/v1/jurisdictions/?page_size=lots", {}, None, FOUR_XX),
        ("page size huge", "GET", "/api/v1/jurisdictions/?page_size=100000000000", {}, None, NOT_5XX),
        ("unknown state", "GET", "/jurisdictions/?state=ZZ", {}, None, FOUR_XX),
        ("malformed date", "GET", "/api/v1/jurisdictions/?updated_since=yesterday", {}, None, FOUR_XX),
        ("date out of range", "GET", "/api/v1/jurisdictions/?updated_since=99999-01-01", {}, None, FOUR_XX),
        ("unknown program", "GET", "/jurisdictions/?program=999999", {}, None, FOUR_XX),
        ("unknown format", "GET", "/api/v1/jurisdictions/?format=xml", {}, None, FOUR_XX),
        ("array-style parameter", "GET", "/jurisdictions/?state[]=TN", {}, None, FOUR_XX),
        ("SQL in the search text", "GET", "/jurisdictions/?search=" + q("' OR 1=1 --"), {}, None, NOT_5XX),
        ("SQL in a choice filter", "GET", "/jurisdictions/?state=" + q("TN' OR '1'='1"), {}, None, FOUR_XX),
        (
            "SQL in the ordering",
            "GET",
            "/api/v1/jurisdictions/?ordering=" + q("name; DROP TABLE jurisdictions_jurisdiction;--"),
            {},
            None,
            FOUR_XX,
        ),
        (
            "SQL in a slug",
            "GET",
            "/api/v1/jurisdictions/" + q("x' OR '1'='1", safe="") + "/",
            {},
            None,
            FOUR_XX,
        ),
        (
            "SQL in a date",
            "GET",
            "/api/v1/status-changes/?since=" + q("2017-01-01' OR 1=1--"),
            {},
            None,
            FOUR_XX,
        ),
        ("HTML in the search text", "GET", "/jurisdictions/?search=" + q(SCRIPT), {}, None, NOT_5XX),
        ("HTML in an unknown parameter", "GET", f"/jurisdictions/?{q(SCRIPT)}=1", {}, None, FOUR_XX),
        ("HTML in a page slug", "GET", "/jurisdictions/" + q(SCRIPT, safe="") + "/", {}, None, FOUR_XX),
        ("invalid UTF-8, percent-encoded", "GET", "/jurisdictions/?search=%ff%fe%c3%28", {}, None, NOT_5XX),
        ("invalid UTF-8 in a slug", "GET", "/jurisdictions/%c3%28/", {}, None, FOUR_XX),
        ("invalid UTF-8 in a choice", "GET", "/api/v1/jurisdictions/?state=%ff", {}, None, FOUR_XX),
        ("a foreign Host header", "GET", "/jurisdictions/", {"Host": "evil.example"}, None, FOUR_XX),
        (
            "a forged X-Request-ID",
            "GET",
            "/healthz",
            {"X-Request-ID": "forged id; " + "z" * 500},
            None,
            NOT_5XX,
        ),
        (
            "anonymous write to the API",
            "POST",
            "/api/v1/jurisdictions/",
            {"Content-Type": "application/json"},
            b'{"name": "x"}',
            FOUR_XX,
        ),
        ("anonymous delete in the API", "DELETE", "/api/v1/programs/psp/", {}, None, FOUR_XX),
        (
            "a 3 MB JSON body",
            "POST",
            "/api/v1/jurisdictions/",
            {"Content-Type": "application/json"},
            b'{"name": "' + b"x" * 3_000_000 + b'"}',
            FOUR_XX,
        ),
        (
            "a 3 MB form body",
            "POST",
            "/admin/login/",
            {"Content-Type": "application/x-www-form-urlencoded"},
            b"username=" + b"x" * 3_000_000,
            FOUR_XX,
        ),
        (
            "malformed JSON",
            "POST",
            "/api/v1/jurisdictions/",
            {"Content-Type": "application/json"},
            b'{"name": ',
            FOUR_XX,
        ),
        (
            "a lying Content-Length",
            "POST",
            "/admin/login/",
            {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "99999999999"},
            b"a=1",
            FOUR_XX,
        ),
    ]
    return cases


RAW_CASES = [
    (
        "raw invalid UTF-8 in the path",
        b"GET /jurisdictions/\xff\xfe/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n",
    ),
    (
        "raw invalid UTF-8 in the query",
        b"GET /jurisdictions/?search=\xc3\x28 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n",
    ),
    (
        "raw NUL in the path",
        b"GET /jurisdictions/\x00/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n",
    ),
    ("a malformed request line", b"GET\x00 / HTTP/9.9\r\n\r\n"),
    (
        "a header without a colon",
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBroken header line\r\nConnection: close\r\n\r\n",
    ),
]

HEADER = (
    "slug,name,state,kind,geoid,ocd_id,program,status,site_type,letter_sent_on,response_due_on,joined_on,"
    "facility_access,release_notice,hold_request,notes,source_title,source_publisher,source_url,source_date"
)

CSV_FILES = [
    # (name, file name, bytes, the page must show errors)
    ("CSV with wrong columns", "wrong.csv", b"city,county,answer\nMemphis,Shelby,yes\n", True),
    (
        "CSV in Latin-1",
        "latin1.csv",
        (HEADER + "\n,Espa\u00f1ola,NM,city,,,psp,pending,,,,,,,,,,,,\n").encode("latin-1"),
        True,
    ),
    (
        "CSV in UTF-16",
        "utf16.csv",
        (HEADER + "\n,Tulsa,OK,city,,,psp,pending,,,,,,,,,,,,\n").encode("utf-16"),
        True,
    ),
    (
        "CSV with invalid UTF-8",
        "bytes.csv",
        HEADER.encode() + b"\n,Bad\xff\xfeName,TN,city,,,psp,pending,,,,,,,,,,,,\n",
        True,
    ),
    (
        "CSV with NUL bytes",
        "nul.csv",
        HEADER.encode() + b"\n,Nul\x00Town,TN,city,,,psp,pending,,,,,,,,,,,,\n",
        True,
    ),
    ("a PNG named .csv", "image.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, True),
    ("an empty CSV", "empty.csv", b"", True),
    (
        "CSV with a 200 kB cell",
        "bigcell.csv",
        (HEADER + "\n,Bigtown,TN,city,,,psp,pending,,,,,,,,," + "x" * 200_000 + ",,,,\n").encode(),
        True,
    ),
    ("CSV with a ragged row", "ragged.csv", (HEADER + "\n,Short,TN\n").encode(), True),
    (
        "CSV with SQL and HTML",
        "inject.csv",
        (
            HEADER
            + '\n,"Robert\'); DROP TABLE jurisdictions_jurisdiction;--",XX,<script>,,,psp,pending,,,,,,,,,,,,\n'
        ).encode(),
        True,
    ),
    # A well-formed file whose cells look like spreadsheet formulas: previewed, nothing written.
    (
        "CSV with formula cells",
        "formula.csv",
        (
            HEADER
            + '\n,"=HYPERLINK(""http://x"")",TN,city,,,psp,pending,,,,,,,,"+cmd|\' /C calc\'!A0","@SUM(1)","-2+3",,\n'
        ).encode(),
        False,
    ),
]


def snapshot(cluster):
    """A digest of every table of the app's data and its history: any write changes it.

    (auth_user is left out: the staff login of the import checks sets last_login; so are the import
    jobs, which record each upload by design.)"""
    tables = [
        row[0]
        for row in cluster.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_name LIKE 'jurisdictions_%' AND table_name <> 'jurisdictions_importjob' "
            "ORDER BY table_name"
        )
    ]
    digest = {}
    for table in tables:
        digest[table] = cluster.query(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM \"{table}\" t"
        )[0]
    return digest


class Browser:
    """A staff session: cookies and CSRF token handled by hand."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def _headers(self, extra=None):
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {**({"Cookie": cookie} if cookie else {}), **(extra or {})}

    def request(self, method, path, body=None, headers=None):
        status, response_headers, content = fetch(
            self.port, method, path, headers=self._headers(headers), body=body
        )
        # http.client joins repeated Set-Cookie headers with ", "; split on cookie boundaries.
        for part in re.split(r", (?=[A-Za-z0-9_-]+=)", response_headers.get("set-cookie", "")):
            name, _, rest = part.partition("=")
            if name:
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return status, response_headers, content

    def csrf(self, path):
        status, _, content = self.request("GET", path)
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content)
        if status != 200 or not match:
            raise RuntimeError(f"no form at {path} ({status})")
        return match.group(1).decode()

    def post_form(self, path, fields):
        token = self.csrf(path)
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"https://{HOST}{path}",
            "Origin": f"https://{HOST}",
        }
        return self.request("POST", path, body, headers)

    def post_file(self, path, filename, data):
        token = self.csrf(path)
        boundary = "----psp" + secrets.token_hex(12)
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{token}\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                "Content-Type: text/csv\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Referer": f"https://{HOST}{path}",
            "Origin": f"https://{HOST}",
        }
        status, response_headers, content = self.request("POST", path, body, headers)
        location = response_headers.get("location", "")
        if status in (302, 303) and location.startswith("/"):
            # An accepted upload becomes an import job; its page shows the preview or the errors.
            return self.request("GET", location)
        return status, response_headers, content


def _judge(status, expectation):
    if status is None or status >= 500:
        return False
    if expectation == FOUR_XX:
        return 400 <= status < 500
    return status == 200 or 400 <= status < 500


def phase_hostile(app, cluster):
    log("== hostile input")
    before = snapshot(cluster)
    outcomes = []

    def record(name, status, ok, note=""):
        outcomes.append({"case": name, "status": status, "ok": ok, "note": note})
        if not ok:
            log(f"   FAILED {name}: {status} {note}")

    for name, method, path, headers, body, expectation in hostile_requests():
        try:
            status, _, content = fetch(app.port, method, path, headers=headers, body=body)
        except (OSError, http.client.HTTPException) as exc:
            record(name, None, False, f"{type(exc).__name__}: {exc}")
            continue
        reflected = SCRIPT.encode() in content
        record(
            name,
            status,
            _judge(status, expectation) and not reflected,
            "script reflected unescaped" if reflected else "",
        )
    for name, raw in RAW_CASES:
        try:
            status = fetch_raw(app.port, raw)
        except OSError as exc:
            status, note = None, str(exc)
        else:
            note = ""
        record(name, status, status is not None and 400 <= status < 500, note)

    staff = Browser(app.port)
    password = app.env["DJANGO_SUPERUSER_PASSWORD"]
    status, headers, _ = staff.post_form(
        "/admin/login/?next=/admin/", {"username": "reliability", "password": password}
    )
    if status != 302:
        record("staff login for the import page", status, False)
    else:
        import_path = "/admin/jurisdictions/jurisdiction/import/"
        for name, filename, data, must_show_errors in CSV_FILES:
            try:
                status, _, content = staff.post_file(import_path, filename, data)
            except (OSError, http.client.HTTPException, RuntimeError) as exc:
                record(name, None, False, str(exc))
                continue
            shows_errors = b"errornote" in content or b"errorlist" in content
            ok = (
                status is not None
                and status < 500
                and (shows_errors or not must_show_errors)
                and SCRIPT.encode() not in content
            )
            record(name, status, ok, "" if ok else f"errors shown: {shows_errors}")
        # Confirming an import with a forged token writes nothing.
        status, _, _ = staff.post_form(import_path, {"confirm": "1", "token": "forged"})
        record("import confirm with a forged token", status, status is not None and status < 500)
        status, _, _ = Browser(app.port).post_form(
            "/admin/login/", {"username": "reliability\x00", "password": "x"}
        )
        record("NUL in the login form", status, status is not None and status < 500)

    after = snapshot(cluster)
    changed = sorted(table for table in before if before[table] != after.get(table))
    passed = sum(1 for o in outcomes if o["ok"])
    log(f"   {len(outcomes)} hostile requests: {passed} answered as expected, {len(outcomes) - passed} not")
    five_xx = sum(1 for o in outcomes if o["status"] is not None and o["status"] >= 500)
    log(f"   5xx answers: {five_xx}; tables changed: {', '.join(changed) or 'none'}")
    figures = {
        "cases": len(outcomes),
        "as_expected": passed,
        "answered_5xx": five_xx,
        "tables_changed": changed,
    }
    return figures, passed == len(outcomes) and not changed


# --- Main ----------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="the CI form: smaller data, shorter phases")
    parser.add_argument("--port", type=int, default=8305, help="gunicorn's port on 127.0.0.1 (default 8305)")
    parser.add_argument(
        "--pg-port", type=int, default=5435, help="the throwaway PostgreSQL's port (default 5435)"
    )
    parser.add_argument(
        "--redis-port", type=int, default=6395, help="the run's own redis-server's port (default 6395)"
    )
    parser.add_argument("--redis-db", type=int, default=0, help="the Redis database number (default 0)")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=[
            "load",
            "restart",
            "redis_stopped",
            "redis_paused",
            "host_poisoning",
            "concurrent_creates",
            "wide_csv",
            "hostile",
            "throttles",
            "webhooks",
            "mail_stopped",
            "mail_paused",
        ],
        help="phases to leave out (while developing)",
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes (default 3)")
    parser.add_argument(
        "--threads-per-worker", type=int, default=4, help="gunicorn threads per worker (default 4)"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    # Stopped from outside (CI timeout, Ctrl-C): still stop gunicorn and the cluster, remove the folders.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    profile = PROFILES["short" if args.short else "long"]
    started = time.monotonic()
    cluster = app = mail = None
    report = {"profile": "short" if args.short else "long", "settings": profile, "rates": RATES}
    ok = True
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import reliability_faults as faults
    import reliability_mail as mail_faults
    import reliability_webhooks as webhook_faults

    rel = sys.modules[__name__]
    redis = faults.RedisServer(args.redis_port, args.redis_db)
    skip = set(args.skip)
    try:
        cluster, app = prepare(args, profile, redis)
        staff = faults.StaffApi(rel, app.port, app.staff_token)
        mail = mail_faults.MailPhases(rel, app, cluster, profile)
        phases = [
            ("load", lambda: phase_load(app, cluster, profile)),
            ("restart", lambda: phase_restart(app, cluster, profile)),
            (
                "redis_stopped",
                lambda: faults.phase_redis(rel, app, cluster, redis, profile, staff, mode="stop"),
            ),
            (
                "redis_paused",
                lambda: faults.phase_redis(rel, app, cluster, redis, profile, staff, mode="pause"),
            ),
            ("host_poisoning", lambda: faults.phase_host_poisoning(rel, app)),
            ("concurrent_creates", lambda: faults.phase_concurrent_creates(rel, staff)),
            ("wide_csv", lambda: faults.phase_wide_csv(rel, app)),
            (
                "webhooks",
                lambda: webhook_faults.phase_receiver_down(
                    rel,
                    app,
                    cluster,
                    staff,
                    down_seconds=profile["webhook_down_seconds"],
                    backoff=profile["webhook_backoff"],
                ),
            ),
            ("mail_stopped", lambda: mail.run("stop")),
            ("mail_paused", lambda: mail.run("pause")),
            ("hostile", lambda: phase_hostile(app, cluster)),
            (
                "throttles",
                lambda: faults.phase_throttles(
                    rel,
                    app,
                    {
                        "pages": int(RATES["PUBLIC_RATE"].split("/")[0]),
                        "csv": int(RATES["PUBLIC_CSV_RATE"].split("/")[0]),
                        "api": int(RATES["API_ANON_RATE"].split("/")[0]),
                    },
                ),
            ),
        ]
        for name, run in phases:
            if name in skip:
                continue
            report[name], passed = run()
            report[name] = {**report[name], "passed": passed}
            ok &= passed
        tracebacks = app.logfile.read_text().count("Traceback")
        report["tracebacks_in_log"] = tracebacks
        log(f"== app log: {tracebacks} traceback(s) (a CSV stream cut by the restart would log one)")
    except Exception as exc:  # report and fail, then clean up
        log(f"FATAL: {type(exc).__name__}: {exc}")
        ok = False
    finally:
        if mail:
            mail.close()
        if app:
            app.stop()
        if cluster:
            cluster.stop()
        report["redis_keys_left"] = redis.keys()
        redis.close()  # the run's own server: nothing is left behind in any Redis
        log(
            f"   Redis: the run's server held {report['redis_keys_left']} keys; shut down, its folder removed"
        )
        if app:
            if getattr(app, "logfile", None) and app.logfile.exists():
                kept = Path(tempfile.gettempdir()) / "psp-reliability-app.log"
                shutil.copy(app.logfile, kept)
                log(f"   the app's log (JSON lines, one per request) is kept in {kept}")
            shutil.rmtree(app.folder, ignore_errors=True)
    report["seconds"] = round(time.monotonic() - started, 1)
    report["passed"] = ok
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    log(f"== {'PASSED' if ok else 'FAILED'} in {report['seconds']} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
