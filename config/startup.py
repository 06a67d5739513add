"""What a serving process does once it has loaded: the URLconf imported, then the heap frozen.

A loaded process tracks about 230,000 objects (Django, the apps, their modules) that live as long as
it does. CPython's full ("generation 2") collection walks all of them: about 140 ms on a 2-core
machine, a pause that lands on whichever request happens to trigger it (the dashboard benchmark's
spikes of 200-300 ms). ``gc.freeze()`` moves every object alive at this point to a permanent
generation that collections skip; objects created later are collected as usual. Under a pre-forking
server it also keeps those pages shared between the workers (Python docs, ``gc.freeze``).
"""

from __future__ import annotations

import gc


def serving_ready() -> None:
    """Import the URLconf (every view module with it) now rather than on the first request, then freeze."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (the import is the point)
    gc.freeze()
