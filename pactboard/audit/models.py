"""The append-only, hash-chained audit log.

Each event stores the SHA-256 of its own canonical content and of the previous event of its chain,
so editing, deleting, inserting or reordering rows breaks the chain at a nameable event. There is
one chain per engagement (events of an organisation outside any engagement are in that
organisation's chain, events of neither in the system chain), so either party of an engagement can
verify its trail without seeing anyone else's events (docs/audit.md). The
application refuses updates and deletes (model, queryset) and the database refuses them
too (triggers created by this app's migrations).
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit events are append-only: they cannot be updated.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Audit events are append-only: they cannot be deleted.")

    def for_engagement(self, engagement_id: int) -> AuditEventQuerySet:
        return self.filter(chain=f"engagement:{engagement_id}")


class AuditEvent(models.Model):
    # "engagement:12", "organisation:3" or "system" (audit.chain.chain_key); derived from the hashed
    # engagement and organisation ids, and checked against them by the verifier.
    chain = models.CharField(max_length=40)
    # seq is contiguous (1, 2, 3, ...) within the chain and part of the hashed content, so a removed
    # event leaves a gap the verifier names, even where the database's own ids would have gaps anyway.
    seq = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField()
    # Plain values, not foreign keys: the log must never change when a user or organisation does.
    actor_id = models.BigIntegerField(null=True)
    actor_email = models.CharField(max_length=254, blank=True)
    organisation_id = models.BigIntegerField(null=True)
    organisation_name = models.CharField(max_length=200, blank=True)
    # Events about an engagement are readable by both of its parties.
    engagement_id = models.BigIntegerField(null=True, db_index=True)
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_event_chain_seq_unique")]

    def __str__(self) -> str:
        return f"{self.chain} #{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only: they cannot be updated.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit events are append-only: they cannot be deleted.")
