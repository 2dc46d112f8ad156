"""Mail phase of scripts/reliability.py: the SMTP server the worker sends through (aiosmtpd, a
process of the run's own on loopback) is stopped, then paused (SIGSTOP) past the app's
EMAIL_TIMEOUT, while readers subscribe through the public form under load. The site must keep
serving (no 5xx, p95 within LATENCY_FACTOR), the confirmations must stay pending (not dropped),
and once the server is back each must arrive exactly once, without the worker hanging.
"""

import http.client
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reliability_faults import LATENCY_FACTOR  # noqa: E402
from reliability_webhooks import Worker  # noqa: E402

from tests.alerts_support import free_port  # noqa: E402 - after the path is set

SUBSCRIBERS = 4
EMAIL_TIMEOUT = 2  # seconds; the run sets the app's EMAIL_TIMEOUT to this
SWEEP = 2  # the worker's sweep interval in the run (reliability_webhooks.Worker)
CONFIRM_SUBJECT = "Confirm your PSP Tracker alert"
SERVER = """
import asyncio, json, sys
from email import message_from_bytes, policy
from aiosmtpd.smtp import SMTP
out = open(sys.argv[2], "a", buffering=1)
class Handler:
    async def handle_DATA(self, server, session, envelope):
        m = message_from_bytes(envelope.content, policy=policy.default)
        out.write(json.dumps({"to": str(m["To"]), "subject": str(m["Subject"])}) + "\\n")
        return "250 OK"
async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Handler()), "127.0.0.1", int(sys.argv[1]))
    await server.serve_forever()
asyncio.run(main())
"""


class SmtpServer:
    """aiosmtpd in a process of its own, so that it can be stopped (SIGTERM) and paused (SIGSTOP);
    every message it accepts is one JSON line (To, Subject) in `inbox`."""

    def __init__(self, folder):
        self.port, self.inbox, self.process = free_port(), folder / "inbox.jsonl", None
        self.inbox.touch()

    def start(self):
        self.process = subprocess.Popen([sys.executable, "-c", SERVER, str(self.port), str(self.inbox)])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the SMTP server did not listen on {self.port}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def pause(self):
        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        self.process.send_signal(signal.SIGCONT)

    def received(self):
        return [json.loads(line) for line in self.inbox.read_text().splitlines() if line.strip()]


def mail_env(app, server):
    app.env.update(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(server.port),
        EMAIL_TIMEOUT=str(EMAIL_TIMEOUT),
    )


def subscribe(rel, app, address, client):
    """What a reader does: the public form (CSRF token from the page), one address per client."""
    browser = rel.Browser(app.port)
    headers = {"X-Forwarded-For": client}
    status, _, content = browser.request("GET", "/alerts/subscribe/", headers=headers)
    token = rel.re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content)
    if status != 200 or not token:
        return status
    body = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token.group(1).decode(),
            "email": address,
            "frequency": "immediate",
            "filter": "",
        }
    ).encode()
    form = {
        **headers,
        "Content-Type": "application/x-www-form-urlencoded",
        "Referer": f"https://{rel.HOST}/alerts/subscribe/",
        "Origin": f"https://{rel.HOST}",
    }
    return browser.request("POST", "/alerts/subscribe/", body, form)[0]


def phase_mail(rel, app, cluster, profile, server, *, mode):
    """Returns (figures, passed)."""
    seconds, threads = profile["redis_seconds"], profile["redis_threads"]
    down = max(profile["redis_down_seconds"], 3 * EMAIL_TIMEOUT)
    done = {"stop": "stopped", "pause": "paused"}[mode]
    rel.log(f"== mail {done}: {threads} threads for {seconds} s, the SMTP server {done} for {down} s")
    addresses = [f"{mode}-{i}@example.org" for i in range(SUBSCRIBERS)]
    load = rel.Load(app.port, rel.targets_for(cluster), threads=threads, seconds=seconds, cap=profile["cap"])
    window, statuses, pending = {}, [], []
    worker = Worker(app)
    worker.start()

    def fault():
        time.sleep(max(0.0, load.started + (seconds - down) / 2 - time.monotonic()))
        window["start"] = time.monotonic()
        server.stop() if mode == "stop" else server.pause()
        for i, address in enumerate(addresses):
            statuses.append(subscribe(rel, app, address, f"203.0.113.{100 + i}"))
        time.sleep(max(0.0, window["start"] + down - time.monotonic()))
        # Nothing dropped: every confirmation still due (and the subscriptions kept).
        quoted = ",".join(f"'{a}'" for a in addresses)
        pending.append(
            cluster.query(
                "SELECT count(*) FROM alerts_emailsubscription "
                f"WHERE email IN ({quoted}) AND confirmation_sent_at IS NULL"
            )[0][0]
        )
        server.start() if mode == "stop" else server.resume()
        window["end"] = time.monotonic()

    try:
        load.run(during=fault)
        # Delivered within a sweep, a timed-out attempt and a margin: more means the worker hung.
        limit = EMAIL_TIMEOUT + 2 * SWEEP + 6
        while time.monotonic() < window["end"] + limit:
            got = [m for m in server.received() if m["to"] in addresses]
            if len(got) >= SUBSCRIBERS:
                break
            time.sleep(0.2)
        delivered_after = time.monotonic() - window["end"]
        time.sleep(SWEEP + 1)  # a repeat would come with the next sweeps
        worker_alive = worker.process.poll() is None
    finally:
        worker.stop()
    got = [m for m in server.received() if m["to"] in addresses]
    per_address = {a: sum(m["to"] == a and m["subject"] == CONFIRM_SUBJECT for m in got) for a in addresses}
    results = load.results
    start, end = window["start"], window["end"]
    during = [r for r in results if r.ended >= start and r.started <= end]
    outside = [r for r in results if r.ended < start or r.started > end]
    five_xx = [r for r in results if r.status is None or r.status >= 500]
    p95_during, p95_outside = rel.summarise(during)["p95_ms"], rel.summarise(outside)["p95_ms"]
    figures = {
        "requests": len(results),
        "requests_during_fault": len(during),
        "fault_seconds": round(end - start, 1),
        "answered_5xx_or_broken": len(five_xx),
        "p95_ms_outside": p95_outside,
        "p95_ms_during": p95_during,
        "subscribe_statuses": statuses,
        "pending_at_end_of_fault": pending[0] if pending else None,
        "messages_expected": SUBSCRIBERS,
        "messages_received": len(got),
        "lost": sum(n == 0 for n in per_address.values()),
        "duplicated": sum(n > 1 for n in per_address.values()),
        "seconds_to_deliver_all_after_recovery": round(delivered_after, 1),
        "delivery_limit_seconds": limit,
        "worker_alive": worker_alive,
    }
    passed = (
        not five_xx
        and p95_during <= LATENCY_FACTOR * max(p95_outside, 1.0)
        and statuses == [200] * SUBSCRIBERS
        and figures["pending_at_end_of_fault"] == SUBSCRIBERS
        and figures["lost"] == 0
        and figures["duplicated"] == 0
        and delivered_after < limit
        and worker_alive
    )
    rel.log(
        f"   {len(results)} requests ({len(during)} during the fault), {len(five_xx)} 5xx/broken; "
        f"p95 {p95_outside} ms outside, {p95_during} ms during (limit {LATENCY_FACTOR}x); "
        f"subscribe answers {statuses}; {figures['pending_at_end_of_fault']}/{SUBSCRIBERS} pending at "
        f"the end of the fault; {len(got)} messages received for {SUBSCRIBERS} expected "
        f"({figures['lost']} lost, {figures['duplicated']} duplicated) "
        f"{figures['seconds_to_deliver_all_after_recovery']} s after recovery (limit {limit} s); "
        f"worker alive: {worker_alive}"
    )
    return figures, passed


class MailPhases:
    """One SMTP server for both phases (stopped, then paused); `close` ends it."""

    def __init__(self, rel, app, cluster, profile):
        self.rel, self.app, self.cluster, self.profile = rel, app, cluster, profile
        self.server = None

    def run(self, mode):
        if self.server is None:
            self.server = SmtpServer(self.app.folder)
            mail_env(self.app, self.server)
            self.server.start()
        try:
            return phase_mail(self.rel, self.app, self.cluster, self.profile, self.server, mode=mode)
        except (OSError, http.client.HTTPException, RuntimeError) as exc:
            self.rel.log(f"   FAIL: {type(exc).__name__}: {exc}")
            return {"error": str(exc)}, False

    def close(self):
        if self.server and self.server.process and self.server.process.poll() is None:
            self.server.resume()  # a paused process acts on SIGTERM only once continued
            self.server.stop()
