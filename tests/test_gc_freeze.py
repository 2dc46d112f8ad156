"""The process's long-lived objects are frozen out of the garbage collector after one request."""

import gc

from django.core.signals import request_finished

from psp_tracker import gc_freeze


def test_the_first_request_freezes_what_is_alive_and_unhooks_itself(client, db):
    gc.unfreeze()  # as a new process: nothing frozen yet
    gc_freeze.connect()
    assert gc.get_freeze_count() == 0

    client.get("/healthz")
    frozen = gc.get_freeze_count()
    assert frozen > 1000  # modules, classes, URL patterns: what the process keeps
    # It unhooked itself: there is nothing left to disconnect.
    assert request_finished.disconnect(gc_freeze.freeze_after_first_request) is False

    client.get("/healthz")
    assert gc.get_freeze_count() <= frozen  # not frozen again (frozen objects may still be freed)
