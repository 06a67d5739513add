"""Ports: what a lower room needs from a room above it, supplied when the apps start.

The floors (see docs/architecture.md) let a room import only from rooms below it. A few facts
still flow the other way: the objectives page's SMART check counts the KPIs linked to each
objective (the kpis room), and a KPI's formula is checked against the engagement's declared
datasets (the measurements room). The lower room declares a ``Port`` with the signature it
needs; the higher room plugs its selector in from ``AppConfig.ready()``. The dependency is then
explicit, typed and one-way in the import graph, and a port left unplugged fails loudly.
"""

from __future__ import annotations


class PortNotConnectedError(RuntimeError):
    pass


class Port[T]:
    """One capability, supplied once at start-up by the room that owns it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._impl: T | None = None

    def connect(self, impl: T) -> None:
        self._impl = impl

    def __call__(self) -> T:
        if self._impl is None:
            raise PortNotConnectedError(f"port {self.name!r} is not connected: is its app in INSTALLED_APPS?")
        return self._impl
