"""Issue 17: the worker as a process of its own (`manage.py run_worker`, what compose and `make run`
start) against the PostgreSQL queue: it delivers without being asked, survives losing its database
connections, and a worker killed in the middle of a POST loses nothing (the delivery is sent again,
with the same event id, and the receiver's deduplication keeps one effect).

PostgreSQL only: the worker process must share the test database, and pytest-django's SQLite
test database lives in the memory of the test process (the in-process run-once tests in
test_alerts_webhooks.py cover SQLite)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from alerts.models import Delivery
from jurisdictions import services
from tests.alerts_support import Receiver
from tests.factories import EnrollmentFactory, JurisdictionFactory
from tests.factories_alerts import WebhookFactory

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip(
            "the worker process needs the PostgreSQL test database (run with DATABASE_URL=postgres://...)"
        )


class WorkerProcess:
    def __init__(self):
        db = connection.settings_dict
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECURE": "0",
            "DJANGO_LOG_FORMAT": "text",
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": "1",
            "WEBHOOK_BACKOFF_SECONDS": "0.2",
            "WEBHOOK_TIMEOUT_SECONDS": "2",
            "WEBHOOK_CLAIM_MARGIN_SECONDS": "1",
        }
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--no-reload", "--interval", "0.1", "--sweep", "0.5"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        return self

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def worker(postgres):
    process = WorkerProcess()
    yield process
    process.stop()


def wait(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def stockton(psp):
    return EnrollmentFactory(
        jurisdiction=JurisdictionFactory(name="Stockton", state="CA"), status="letter_sent"
    )


def set_status(enrollment, status):
    enrollment.refresh_from_db()
    return services.enrollment_set_status(enrollment=enrollment, status=status, user=None, via="admin")


def test_the_worker_process_delivers_and_survives_losing_its_database_connections(worker, stockton):
    with Receiver() as receiver:
        receiver.secret = WebhookFactory(target_url=receiver.url).secret
        worker.start()
        set_status(stockton, "pending")
        assert wait(lambda: len(receiver.accepted) == 1)
        # Once the outcome is written: cut earlier, the delivery would rightly be sent again.
        assert wait(lambda: Delivery.objects.filter(status="delivered").count() == 1)
        with connection.cursor() as cursor:  # as a PostgreSQL restart does to the worker
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert cursor.fetchone()[0] >= 1
        set_status(stockton, "letter_sent")
        assert wait(lambda: len(receiver.accepted) == 2)
        assert worker.process.poll() is None
    assert all(p["signature_ok"] for p in receiver.posts)
    assert len(receiver.posts) == 2


def test_a_worker_killed_mid_delivery_loses_nothing_and_the_event_id_deduplicates(worker, stockton):
    with Receiver(script=["timeout"], slow=1.5) as receiver:
        receiver.secret = WebhookFactory(target_url=receiver.url).secret
        worker.start()
        set_status(stockton, "pending")
        assert wait(lambda: receiver.posts)  # the POST is in flight...
        worker.kill()  # ...when the worker dies, before it records the answer
        worker.start()  # its claim expires (timeout + margin) and the delivery goes out again
        assert wait(lambda: len(receiver.posts) >= 2)
        time.sleep(1)
    event_ids = [p["event_id"] for p in receiver.posts]
    assert len(set(event_ids)) == 1
    assert receiver.accepted == [event_ids[0]]
