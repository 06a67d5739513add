"""Whether this process may sign with the key `pactboard demo` left in the data dir.

With debug off and no ``PACTBOARD_SECRET_KEY``, settings refuse to start, so that a server never
signs sessions with a key generated for local use. Processes that serve no requests may fall
back to that key, when it exists, so that the README's commands work after the demo without
extra variables: the ``pactboard`` console script marks its commands that serve nothing
(``pactboard.cli``), and mypy's Django plugin loads the settings only to read model types.
WSGI/ASGI servers and ``runserver`` never set the mark.
"""

from __future__ import annotations

import sys

# Set by pactboard.cli.main before Django reads the settings; never by a server's entry point.
non_serving_command = False


def local_key_allowed() -> bool:
    """True in a process that answers no HTTP requests (a non-serving command, or mypy)."""
    return non_serving_command or "mypy_django_plugin" in sys.modules
