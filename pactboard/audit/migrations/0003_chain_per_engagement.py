"""One hash chain per engagement (and per organisation, and one for the system) instead of one global chain.

Existing events are re-chained in their original order: each gets its chain key, a seq that
counts within its chain and a new prev_hash and hash. The global head hashes printed by
`pactboard audit verify` before this migration therefore no longer exist (docs/audit.md); the
trail is verified first, so a trail that was already broken is not silently re-sealed.
The append-only triggers are lifted for the re-chaining and put back after it.
"""

from django.db import migrations, models

from pactboard.audit.chain import GENESIS_HASH, StoredEvent, chain_key, chain_verify, event_content, event_hash
from pactboard.audit.guard import guard_install, guard_remove

FIELDS = [
    "occurred_at",
    "actor_id",
    "actor_email",
    "organisation_id",
    "organisation_name",
    "engagement_id",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
]


def _content(event, seq):
    return event_content(seq=seq, **{f: getattr(event, f) for f in FIELDS})


def _rechain(AuditEvent, key_of, order):
    last = {}  # chain -> (seq, hash)
    batch = []
    for event in AuditEvent.objects.order_by(*order).iterator(chunk_size=2000):
        key = key_of(event)
        seq, prev = last.get(key, (0, GENESIS_HASH))
        seq += 1
        event.chain = key
        event.seq = seq
        event.prev_hash = prev
        event.hash = event_hash(prev_hash=prev, content=_content(event, seq))
        last[key] = (seq, event.hash)
        batch.append(event)
        if len(batch) >= 500:
            AuditEvent.objects.bulk_update(batch, ["chain", "seq", "prev_hash", "hash"])
            batch = []
    if batch:
        AuditEvent.objects.bulk_update(batch, ["chain", "seq", "prev_hash", "hash"])


def _global_chain_check(AuditEvent):
    stored = (
        StoredEvent(seq=e.seq, prev_hash=e.prev_hash, hash=e.hash, content=_content(e, e.seq))
        for e in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000)
    )
    # The old global chain had no chain key: check its links and hashes alone.
    problem = chain_verify(stored, chain=None).problem
    if problem is not None:
        raise RuntimeError(
            f"The audit trail is broken at event #{problem.seq} ({problem.kind}): {problem.message}. "
            "Re-chaining would hide that: restore the trail from a backup first."
        )


def forward(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    guard_remove(schema_editor.connection)
    _global_chain_check(AuditEvent)
    _rechain(AuditEvent, lambda e: chain_key(engagement_id=e.engagement_id, organisation_id=e.organisation_id), ["seq"])


def backward(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    guard_remove(schema_editor.connection)
    _rechain(AuditEvent, lambda e: "", ["id"])


def reinstall(apps, schema_editor):
    guard_install(schema_editor.connection)


def lift(apps, schema_editor):
    guard_remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]

    operations = [
        migrations.RunPython(lift, reinstall),
        migrations.AddField(
            model_name="auditevent",
            name="chain",
            field=models.CharField(default="", max_length=40),
            preserve_default=False,
        ),
        migrations.AlterField(model_name="auditevent", name="seq", field=models.PositiveBigIntegerField()),
        migrations.RunPython(forward, backward),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(fields=["chain", "seq"], name="audit_event_chain_seq_unique"),
        ),
        migrations.AlterModelOptions(name="auditevent", options={"ordering": ["id"]}),
        migrations.RunPython(reinstall, lift),
    ]
