"""Dashboard fragments and portfolio rows, cached on exactly what they show.

A fragment is stored under a key made of everything its output depends on: the engagement's
change stamp (values, business changes, agreed versions), the engagement's own fields, the viewer's
organisation, the day in the engagement's time zone, the chosen period, the language and time zone
of the request and the code (templates and modules) that built it. A write changes the stamp, so the
next request misses and computes afresh: nothing is invalidated by hand, and nothing can be stale.

The cache is the ``pages`` alias of ``CACHES`` (config/settings.py; per process by default).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone, translation

ALIAS = "pages"
# A day: keys carry the local date, so nothing older is ever asked for again.
TIMEOUT = 24 * 3600


@functools.cache
def code_version() -> str:
    """A hash of the package's modules and the templates: a deployment of other code never reads old entries."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    engines: list[dict[str, Any]] = settings.TEMPLATES
    templates = [Path(d) for engine in engines for d in engine.get("DIRS", [])]
    for base in (package, *templates):
        for path in sorted(base.rglob("*")):
            if path.suffix in {".py", ".html"} and path.is_file():
                digest.update(path.relative_to(base).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _plain(value: object) -> object:
    # A stable text for a mapping or set, whatever its order (parts are otherwise plain values and tuples).
    if isinstance(value, Mapping):
        return tuple(sorted((repr(k), repr(v)) for k, v in value.items()))
    if isinstance(value, set | frozenset):
        return tuple(sorted(repr(v) for v in value))
    return value


def page_key(kind: str, *parts: object) -> str:
    """The cache key of a fragment of ``kind`` built from ``parts`` (with the code, language and time zone)."""
    context = (code_version(), kind, translation.get_language(), timezone.get_current_timezone_name())
    raw = repr((context, tuple(_plain(p) for p in parts)))
    return f"pb:{kind}:{hashlib.sha256(raw.encode()).hexdigest()}"


def page_cache_get(key: str) -> Any:
    return caches[ALIAS].get(key)


def page_cache_get_many(keys: list[str]) -> dict[str, Any]:
    return caches[ALIAS].get_many(keys) if keys else {}


def page_cache_set(key: str, value: object) -> None:
    caches[ALIAS].set(key, value, TIMEOUT)


def page_cache_set_many(values: Mapping[str, object]) -> None:
    if values:
        caches[ALIAS].set_many(dict(values), TIMEOUT)


def page_cache_clear() -> None:
    caches[ALIAS].clear()
