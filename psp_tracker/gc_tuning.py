"""Python's cyclic garbage collector, tuned for a process that serves requests.

Two settings, each measured at 90,000 jurisdictions (docs/performance.md, "Garbage collection";
`scripts/bench_instructions.py --gc` times the collector per request):

* **Long-lived objects frozen.** A serving process holds about 100,000 objects that live as long
  as it does: modules, classes, URL patterns, compiled templates, compiled SQL. Every full
  collection walked all of them. `gc.freeze()` moves every object alive at that moment to a
  generation the collector never walks. It runs once, after the first request has built the lazy
  state, and after a collection so that the first request's garbage is not frozen with it. Frozen
  objects that become garbage later stay until the process ends (a few, once).
* **A larger young generation.** At Python's default (a collection every 700 new container
  objects) one API page ran about 1.5 young collections, each walking the page it was building.
  At 10,000 a page runs about one in ten; the garbage waits a little longer (a few megabytes at
  most).
"""

import gc

from django.core.signals import request_finished

# New container objects between two collections of the youngest generation (Python's default: 700).
YOUNG_THRESHOLD = 10_000


def freeze_after_first_request(**kwargs):
    request_finished.disconnect(freeze_after_first_request)
    gc.collect()
    gc.freeze()


def connect():
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    request_finished.connect(freeze_after_first_request)
