"""Real parts for the alert tests: an HTTP receiver on loopback that checks signatures and
deduplicates on the event id, an SMTP server (aiosmtpd) that keeps the messages it receives, and
the worker's run-once mode."""

import contextlib
import email
import email.policy
import hashlib
import hmac
import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management import call_command

# Loopback ports for receivers and SMTP; PSP_TEST_PORTS=8710-8729 gives a run its own range (several
# checkouts testing at once on one machine).
_FIRST, _LAST = (int(p) for p in os.environ.get("PSP_TEST_PORTS", "8600-8649").split("-"))
PORTS = range(_FIRST, _LAST + 1)


def free_port():
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {_FIRST}-{_LAST}")


class Receiver:
    """A partner's endpoint. `script` is the answers to give in turn (a status code, or "timeout"
    to answer only after `slow` seconds); then 200. Records every POST and whether its signature
    verifies with `secret` (set by the test)."""

    def __init__(self, *, script=(), slow=2.0, port=None):
        self.script = list(script)
        self.slow = slow
        self.secret = ""
        self.posts = []  # dicts: event_id, body, signature_ok, answered
        self.accepted = []  # event ids, first accepted delivery only (deduplicated)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.handle(self, body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port or free_port()), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def verify(self, headers, body):
        timestamp = headers.get("X-PSP-Timestamp", "")
        expected = hmac.new(self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        fresh = abs(time.time() - int(timestamp or 0)) < 300
        return fresh and hmac.compare_digest(headers.get("X-PSP-Signature", ""), "sha256=" + expected)

    def handle(self, request, body):
        with self.lock:
            answer = self.script.pop(0) if self.script else 200
            event_id = request.headers.get("X-PSP-Event-Id")
            self.posts.append(
                {
                    "event_id": event_id,
                    "body": json.loads(body),
                    "signature_ok": self.verify(request.headers, body),
                    "attempt": request.headers.get("X-PSP-Delivery-Attempt"),
                    "answered": answer,
                }
            )
            if answer == 200 and event_id not in self.accepted:
                self.accepted.append(event_id)
        if answer == "timeout":
            time.sleep(self.slow)
            answer = 200
        with contextlib.suppress(OSError):
            request.send_response(answer)
            request.send_header("Content-Length", "0")
            request.end_headers()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class SmtpSink:
    """aiosmtpd on loopback; `messages` are the parsed e-mails received."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                sink.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
                return "250 OK"

        self.messages = []
        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    def wait_for(self, count, timeout=10):
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


def run_worker_once():
    """The worker's run-once mode: one sweep, then every task that is ready, then exit."""
    call_command("run_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0", verbosity=0)


def run_worker_until(done, *, timeout=30, pause=0.05):
    """Run the worker once at a time until `done()` holds (retries come due between runs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run_worker_once()
        if done():
            return True
        time.sleep(pause)
    return done()
