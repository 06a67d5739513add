"""Audit events in words: who did what to which object, and what changed from what to what.

Pure: takes the stored values of an event and returns text, so the page, the CSV export and the
API say the same thing. The stored before/after snapshots are the record; this only reads them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

MISSING = "—"
_LONGEST = 200

# The last word of an action ("objective.create", "agreement.kpi_update") in the past tense.
VERBS = {
    "accept": "accepted",
    "add": "added",
    "comment": "commented on",
    "counter": "countered",
    "create": "created",
    "declare": "declared",
    "delete": "deleted",
    "edit": "changed",
    "import": "imported",
    "propose": "proposed",
    "push": "pushed",
    "receive": "received",
    "record": "recorded",
    "remove": "removed",
    "role": "changed the role of",
    "sign": "signed",
    "update": "changed",
    "upload": "uploaded",
    "withdraw": "withdrew",
}
_ACRONYMS = {"kpi": "KPI", "api": "API", "kpis": "KPIs", "id": "id"}


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class EventWords:
    who: str  # "carla@acme.example (Acme Retail)" or "system"
    what: str  # "created objective"
    object_name: str  # "“Cut AHT”", or "#12" / "import batch #12" where no name was recorded
    changes: list[Change]

    @property
    def sentence(self) -> str:
        return f"{self.who} {self.what} {self.object_name}".strip()

    @property
    def changes_text(self) -> str:
        return "; ".join(f"{c.field}: {c.before} → {c.after}" for c in self.changes)


def _words(text: str) -> str:
    return " ".join(_ACRONYMS.get(w, w) for w in text.replace("_", " ").split())


def action_words(action: str) -> str:
    """``objective.create`` -> ``created objective``; ``agreement.kpi_update`` -> ``changed KPI of agreement``."""
    subject, _, rest = action.partition(".")
    words = rest.split("_") if rest else []
    if words and words[-1] in VERBS:
        thing = _words(" ".join(words[:-1]))
        return f"{VERBS[words[-1]]} {thing} of {_words(subject)}" if thing else f"{VERBS[words[-1]]} {_words(subject)}"
    if subject in VERBS and rest:
        return f"{VERBS[subject]} {_words(rest)}"
    return _words(action.replace(".", ": "))


def field_label(name: str) -> str:
    """``monthly_fee`` -> ``monthly fee``; ``owner_id`` -> ``owner``."""
    return _words(name.removesuffix("_id")) if name != "id" else "id"


def value_words(value: Any) -> str:
    if value is None or value == "":
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= _LONGEST else text[: _LONGEST - 1] + "…"


def changes_between(before: Any, after: Any) -> list[Change]:
    """Each field whose value differs, from what to what (a created object: from —; removed: to —)."""
    old = before if isinstance(before, dict) else ({} if before is None else {"value": before})
    new = after if isinstance(after, dict) else ({} if after is None else {"value": after})
    changes = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            changes.append(Change(field_label(key), value_words(old.get(key)), value_words(new.get(key))))
    return changes


def event_describe(
    *,
    actor_email: str,
    organisation_name: str,
    action: str,
    object_type: str,
    object_id: str,
    object_repr: str,
    before: Any,
    after: Any,
) -> EventWords:
    """One event in words."""
    who = actor_email or "system"
    if organisation_name:
        who = f"{who} ({organisation_name})"
    what = action_words(action)
    if object_repr:
        name = f"“{object_repr}”"
    else:
        # No name was recorded: the type (unless the action already says it) and the id.
        kind = _words(object_type.rpartition(".")[2]) or "object"
        number = f"#{object_id}" if object_id else ""
        name = number if kind in what.split() else f"{kind} {number}".strip()
    return EventWords(who=who, what=what, object_name=name, changes=changes_between(before, after))


class StoredEvent(Protocol):
    """What ``event_words`` reads of a stored event (an ``AuditEvent``); this module stays free of models."""

    actor_email: str
    organisation_name: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    before: Any
    after: Any


def event_words(event: StoredEvent) -> EventWords:
    """A stored event in words: the page, its CSV export and the API describe events through this one call."""
    return event_describe(
        actor_email=event.actor_email,
        organisation_name=event.organisation_name,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        object_repr=event.object_repr,
        before=event.before,
        after=event.after,
    )
