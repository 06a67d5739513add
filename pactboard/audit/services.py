"""The one function through which every service appends to the audit trail."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from pactboard.audit.chain import GENESIS_HASH, chain_key, event_content, event_hash
from pactboard.audit.models import AuditEvent


def _plain(value: Any) -> Any:
    """What the JSON column will give back, so the hash written equals the hash recomputed."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True))


def audit_record(
    *,
    actor: Any | None,
    organisation: Any | None,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    engagement_id: int | None = None,
) -> AuditEvent:
    """Append one event to its chain (the engagement's, else the organisation's, else the system's).

    Call inside the service's transaction.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the service's transaction.atomic block")
    organisation_id = getattr(organisation, "pk", None)
    chain = chain_key(engagement_id=engagement_id, organisation_id=organisation_id)
    if connection.vendor == "postgresql":
        # One lock per chain: appends to one chain queue up, different engagements do not wait
        # for each other. A hash collision of two keys only makes them share a lock.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", ["pactboard-audit:" + chain])
    # On SQLite the IMMEDIATE transaction mode already serialises writers.
    last = AuditEvent.objects.filter(chain=chain).order_by("-seq").values("seq", "hash").first()
    seq = (last["seq"] + 1) if last else 1
    prev_hash = last["hash"] if last else GENESIS_HASH
    fields = {
        "seq": seq,
        "occurred_at": timezone.now(),
        "actor_id": getattr(actor, "pk", None),
        "actor_email": getattr(actor, "email", "") or "",
        "organisation_id": organisation_id,
        "organisation_name": str(organisation) if organisation is not None else "",
        "engagement_id": engagement_id,
        "action": action,
        "object_type": object_type or (obj._meta.label_lower if obj is not None else ""),
        "object_id": str(object_id if object_id is not None else (obj.pk if obj is not None else "")),
        "object_repr": (str(obj) if obj is not None else "")[:300],
        "before": _plain(before),
        "after": _plain(after),
    }
    digest = event_hash(prev_hash=prev_hash, content=event_content(**fields))
    event = AuditEvent(chain=chain, prev_hash=prev_hash, hash=digest, **fields)
    event.save()
    return event


def model_snapshot(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """A JSON-ready dict of a model's concrete fields (foreign keys as ids) for before/after."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        if field.name in {"created_at", "updated_at"}:
            continue
        data[field.attname] = field.value_from_object(obj)
    return _plain(data)
