"""What the accounts room asks rooms above it before a member is removed (connected in ``GovernanceConfig.ready``).

A membership is referenced by rows of higher rooms: the owner of a governance action is one, and
the database protects it (``on_delete=PROTECT``). The accounts room cannot import governance, so
it asks through these ports (docs/architecture.md, "Ports").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from pactboard.core.errors import ErrorDetail
from pactboard.core.ports import Port

if TYPE_CHECKING:
    from pactboard.accounts.models import Membership


class RemovalBlockers(Protocol):
    def __call__(self, *, membership: Membership) -> list[ErrorDetail]: ...


class RemovalHandover(Protocol):
    def __call__(self, *, membership: Membership, actor: Membership) -> int: ...


# Work the member still owes (open actions), each named with where to hand it over; removal is refused.
membership_removal_blockers: Port[RemovalBlockers] = Port("membership_removal_blockers")
# Finished work the member owned (closed actions) passes to ``actor`` so the record keeps an owner; how many.
membership_removal_handover: Port[RemovalHandover] = Port("membership_removal_handover")
