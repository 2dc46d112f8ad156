"""Webhook phase of scripts/reliability.py (issue 17): a partner's receiver is down for a minute
(15 s in --short) while changes are made, PostgreSQL restarts and the worker itself is restarted;
once the receiver is back every event must arrive, signed, none lost, each accepted once (the
receiver deduplicates on X-PSP-Event-Id; repeats are counted, as at-least-once allows them).
"""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.alerts_support import Receiver, free_port  # noqa: E402 - after the path is set

CHANGES = 12
CHANGE_SCRIPT = """
from jurisdictions import services
from jurisdictions.models import Enrollment
rows = Enrollment.objects.filter(status="pending").order_by("pk")[:{n}]
for e in rows:
    services.enrollment_set_status(enrollment=e, status="letter_sent", user=None, via="admin", note="reliability")
print(f"CHANGED={len(rows)}")
"""


class Worker:
    def __init__(self, app):
        self.app, self.process = app, None

    def start(self):
        self.log = open(self.app.folder / "worker.log", "a")  # noqa: SIM115 - kept open while it runs
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--no-reload", "--interval", "0.2", "--sweep", "2"],
            cwd=ROOT,
            env=self.app.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self.log.close()


def phase_receiver_down(rel, app, cluster, staff, *, down_seconds, backoff):
    """Returns (figures, passed)."""
    rel.log(f"== webhooks: receiver down for {down_seconds} s, PostgreSQL and the worker restarted meanwhile")
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    status, _, body = rel.fetch(
        app.port,
        "POST",
        "/api/v1/webhooks/",
        headers={**staff.headers, "Content-Type": "application/json"},
        body=json.dumps({"target_url": url}).encode(),
    )
    if status != 201:
        rel.log(f"   FAIL: creating the subscription answered {status}: {body[:300]!r}")
        return {"error": f"create answered {status}"}, False
    secret = json.loads(body)["secret"]
    worker = Worker(app)
    worker.start()
    started = time.monotonic()
    try:
        output = app.manage("shell", "-c", CHANGE_SCRIPT.replace("{n}", str(CHANGES))).stdout
        made = int(re.search(r"CHANGED=(\d+)", output).group(1))
        time.sleep(down_seconds / 3)
        cluster.restart()  # the worker keeps going through it
        time.sleep(down_seconds / 3)
        worker_alive = worker.process.poll() is None
        worker.stop()  # and a worker restart: a new process takes over the retries
        worker.start()
        time.sleep(max(0.0, down_seconds - (time.monotonic() - started)))
        down_for = time.monotonic() - started
        with Receiver(port=port) as receiver:
            receiver.secret = secret
            back = time.monotonic()
            deadline = back + 32 * backoff + 30
            while len(receiver.accepted) < made and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1)
        recovered = time.monotonic() - back
    finally:
        worker.stop()
    posts = receiver.posts
    figures = {
        "changes": made,
        "receiver_down_seconds": round(down_for, 1),
        "delivered_events": len(receiver.accepted),
        "posts_after_recovery": len(posts),
        "repeats": len(posts) - len({p["event_id"] for p in posts}),
        "bad_signatures": sum(not p["signature_ok"] for p in posts),
        "seconds_to_deliver_all_after_recovery": round(recovered, 1),
        "worker_alive_after_postgresql_restart": worker_alive,
    }
    passed = (
        made == CHANGES and len(receiver.accepted) == made and figures["bad_signatures"] == 0 and worker_alive
    )
    rel.log(
        f"   {made} changes while down {figures['receiver_down_seconds']} s; after recovery "
        f"{figures['delivered_events']}/{made} events delivered in {figures['seconds_to_deliver_all_after_recovery']} s "
        f"({figures['posts_after_recovery']} POSTs, {figures['repeats']} repeats, "
        f"{figures['bad_signatures']} bad signatures); worker alive: {worker_alive}"
    )
    return figures, passed
