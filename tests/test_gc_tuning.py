"""The garbage collector tuned for serving: long-lived objects frozen after one request, a larger
young generation."""

import gc

from django.core.signals import request_finished

from psp_tracker import gc_tuning


def test_the_first_request_freezes_what_is_alive_and_unhooks_itself(client, db):
    gc.unfreeze()  # as a new process: nothing frozen yet
    gc_tuning.connect()
    assert gc.get_freeze_count() == 0

    client.get("/healthz")
    frozen = gc.get_freeze_count()
    assert frozen > 1000  # modules, classes, URL patterns: what the process keeps
    # It unhooked itself: there is nothing left to disconnect.
    assert request_finished.disconnect(gc_tuning.freeze_after_first_request) is False

    client.get("/healthz")
    assert gc.get_freeze_count() <= frozen  # not frozen again (frozen objects may still be freed)


def test_the_young_generation_is_collected_every_ten_thousand_new_objects():
    gc_tuning.connect()
    assert gc.get_threshold()[0] == gc_tuning.YOUNG_THRESHOLD == 10_000
