"""One chain per engagement: exported, verified offline by a standard-library-only script, tamper named.

Tampering is done as someone with database access would: lift the append-only triggers, change
rows with raw SQL, put the triggers back (pactboard/audit/guard.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

import pactboard.audit.standalone_verify as standalone
from pactboard.audit.chain import GENESIS_HASH, event_content, event_hash
from pactboard.audit.guard import guard_install, guard_remove
from pactboard.audit.models import AuditEvent
from pactboard.audit.selectors import audit_engagement_verify, audit_head, audit_verify
from pactboard.audit.services import audit_record
from tests.conftest import World

pytestmark = pytest.mark.django_db

VERIFIER = Path(standalone.__file__)


def _record(world: World, engagement_id: int | None, i: int, organisation=None) -> AuditEvent:
    with transaction.atomic():
        return audit_record(
            actor=world.client_manager.user,
            organisation=organisation if organisation is not None else world.client_org,
            action="objective.update",
            object_type="engagements.objective",
            object_id=i,
            before={"target": f"{70 + i} %"},
            after={"target": f"{71 + i} %"},
            engagement_id=engagement_id,
        )


def _two_engagements(world: World) -> tuple[int, int]:
    """Five events of engagement A and three of B, interleaved as real traffic would be."""
    a, b = world.engagement.pk, world.other_engagement.pk
    for i, eid in enumerate([a, b, a, a, b, a, b, a]):
        _record(world, eid, i, organisation=world.client_org if eid == a else world.other_client_org)
    return a, b


def _tamper(sql: str, params: list) -> None:
    guard_remove(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    finally:
        guard_install(connection)


def _export(engagement_id: int, tmp_path: Path) -> Path:
    target = tmp_path / f"engagement-{engagement_id}.jsonl"
    call_command("audit", "export", str(engagement_id), "-o", str(target), stdout=io.StringIO())
    return target


def _standalone(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    # -I: isolated mode (no PYTHON* variables, no user site, the script's folder not on sys.path), and
    # run from an empty folder, so only the standard library can be imported.
    return subprocess.run(
        [sys.executable, "-I", str(VERIFIER), str(path), *extra],
        capture_output=True,
        text=True,
        cwd=path.parent,
        check=False,
        timeout=60,
    )


def test_each_engagement_has_its_own_chain_from_genesis(world: World):
    a, b = _two_engagements(world)
    first_b = AuditEvent.objects.get(chain=f"engagement:{b}", seq=1)
    # The second event overall is B's first: seq 1 and the genesis link, not a link to A's event.
    assert first_b.prev_hash == GENESIS_HASH
    assert list(AuditEvent.objects.filter(chain=f"engagement:{a}").order_by("seq").values_list("seq", flat=True)) == [
        1,
        2,
        3,
        4,
        5,
    ]
    # Recomputed by hand from the rule in docs/audit.md, not through the application's functions.
    content = {
        "seq": 1,
        "occurred_at": first_b.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": world.client_manager.user.pk,
        "actor_email": "carla@acme.example",
        "organisation_id": world.other_client_org.pk,
        "organisation_name": "Globex",
        "engagement_id": b,
        "action": "objective.update",
        "object_type": "engagements.objective",
        "object_id": "1",
        "object_repr": "",
        "before": {"target": "71 %"},
        "after": {"target": "72 %"},
    }
    payload = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert first_b.hash == hashlib.sha256(("0" * 64 + "\n" + payload).encode("utf-8")).hexdigest()


def test_events_outside_engagements_chain_per_organisation_and_system(world: World):
    org_event = _record(world, None, 1)
    with transaction.atomic():
        system_event = audit_record(actor=None, organisation=None, action="user.create", object_type="x", object_id=1)
    assert org_event.chain == f"organisation:{world.client_org.pk}"
    assert system_event.chain == "system"
    assert (org_event.seq, system_event.seq) == (1, 1)
    assert audit_verify().ok


def test_export_verifies_with_the_standalone_verifier_and_holds_only_that_engagement(world: World, tmp_path):
    a, _ = _two_engagements(world)
    path = _export(a, tmp_path)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["content"]["seq"] for r in lines] == [1, 2, 3, 4, 5]
    assert {r["content"]["engagement_id"] for r in lines} == {a}
    done = _standalone(path)
    head = audit_head(engagement_id=a)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"OK: chain engagement:{a} intact, 5 events, head event #5 {head.hash}" in done.stdout


def _both_name(world: World, tmp_path: Path, a: int, b: int, *, seq: int, kind: str) -> None:
    """`pactboard audit verify` and the standalone verifier name the same event of A; B stays intact."""
    with pytest.raises(CommandError, match=rf"engagement:{a} at event #{seq}\b") as raised:
        call_command("audit", "verify", stderr=io.StringIO())
    assert f"({kind})" in str(raised.value)
    assert f"engagement:{b}" not in str(raised.value)
    done = _standalone(_export(a, tmp_path))
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"BROKEN: chain engagement:{a}, event #{seq} ({kind})" in done.stdout
    assert _standalone(_export(b, tmp_path)).returncode == 0


def test_an_edited_event_is_named(world: World, tmp_path):
    a, b = _two_engagements(world)
    _tamper(
        "UPDATE audit_auditevent SET after = %s WHERE chain = %s AND seq = 3", ['{"target": "99 %"}', f"engagement:{a}"]
    )
    _both_name(world, tmp_path, a, b, seq=3, kind="edited")


def test_a_deleted_event_is_named(world: World, tmp_path):
    a, b = _two_engagements(world)
    _tamper("DELETE FROM audit_auditevent WHERE chain = %s AND seq = 3", [f"engagement:{a}"])
    # The walk finds #4 where #3 was expected, and says #3 is missing.
    _both_name(world, tmp_path, a, b, seq=4, kind="deleted")
    assert "event #3 is missing" in audit_engagement_verify(engagement_id=a).problem.message  # type: ignore[union-attr]


def test_an_inserted_event_is_named_even_when_its_own_hash_is_right(world: World, tmp_path):
    a, b = _two_engagements(world)
    chain = f"engagement:{a}"
    second = AuditEvent.objects.get(chain=chain, seq=2)
    # Make room at #3 (two steps, so the (chain, seq) uniqueness holds at every statement).
    _tamper("UPDATE audit_auditevent SET seq = seq + 100 WHERE chain = %s AND seq >= 3", [chain])
    _tamper("UPDATE audit_auditevent SET seq = seq - 99 WHERE chain = %s AND seq >= 100", [chain])
    # A careful forger: the new event links to #2 and carries the hash of its own content.
    fields = {
        "seq": 3,
        "occurred_at": second.occurred_at,
        "actor_id": None,
        "actor_email": "forger@example.com",
        "organisation_id": world.client_org.pk,
        "organisation_name": "Acme Retail",
        "engagement_id": a,
        "action": "objective.update",
        "object_type": "engagements.objective",
        "object_id": "1",
        "object_repr": "",
        "before": None,
        "after": {"target": "1 %"},
    }
    forged = event_hash(prev_hash=second.hash, content=event_content(**fields))
    _tamper(
        "INSERT INTO audit_auditevent (chain, seq, occurred_at, actor_id, actor_email, organisation_id, "
        "organisation_name, engagement_id, action, object_type, object_id, object_repr, before, after, "
        "prev_hash, hash) "
        "VALUES (%s, 3, %s, NULL, %s, %s, %s, %s, %s, %s, %s, '', NULL, %s, %s, %s)",
        [
            chain,
            second.occurred_at,
            "forger@example.com",
            world.client_org.pk,
            "Acme Retail",
            a,
            "objective.update",
            "engagements.objective",
            "1",
            '{"target": "1 %"}',
            second.hash,
            forged,
        ],
    )
    # Event #4 (the real third event) is chained to #2, so #3 is the one that does not belong.
    _both_name(world, tmp_path, a, b, seq=3, kind="inserted")


def test_reordered_events_are_named(world: World, tmp_path):
    a, b = _two_engagements(world)
    chain = f"engagement:{a}"
    _tamper("UPDATE audit_auditevent SET seq = 1000 WHERE chain = %s AND seq = 2", [chain])
    _tamper("UPDATE audit_auditevent SET seq = 2 WHERE chain = %s AND seq = 3", [chain])
    _tamper("UPDATE audit_auditevent SET seq = 3 WHERE chain = %s AND seq = 1000", [chain])
    _both_name(world, tmp_path, a, b, seq=2, kind="inserted or reordered")


def test_an_event_moved_to_another_chain_is_named(world: World):
    a, b = _two_engagements(world)
    # Relabel A's newest event as B's #4: its content still says engagement A.
    _tamper(
        "UPDATE audit_auditevent SET chain = %s, seq = 4 WHERE chain = %s AND seq = 5",
        [f"engagement:{b}", f"engagement:{a}"],
    )
    result = audit_engagement_verify(engagement_id=b)
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (4, "moved")


def test_the_head_hash_catches_deletion_of_the_newest_events(world: World, tmp_path):
    a, _ = _two_engagements(world)
    kept = audit_head(engagement_id=a)  # what a report made now would carry
    assert (kept.seq, kept.chain) == (5, f"engagement:{a}")
    _tamper("DELETE FROM audit_auditevent WHERE chain = %s AND seq >= 4", [f"engagement:{a}"])
    # The shortened chain still links up: without the kept head, nothing can tell.
    assert audit_engagement_verify(engagement_id=a).ok
    assert _standalone(_export(a, tmp_path)).returncode == 0
    # Against the kept head it fails, in the command, the selector and the standalone verifier.
    with pytest.raises(CommandError, match=r"broken at event #4 \(head missing\).*newest events were deleted"):
        call_command("audit", "verify", "--engagement", str(a), "--head", kept.hash)
    done = _standalone(_export(a, tmp_path), "--head", kept.hash)
    assert done.returncode == 1
    assert f"BROKEN: chain engagement:{a}, event #4 (head missing)" in done.stdout
    # An older head that is still in the chain passes, and says which event it is.
    third = AuditEvent.objects.get(chain=f"engagement:{a}", seq=3).hash
    done = _standalone(_export(a, tmp_path), "--head", third)
    assert done.returncode == 0
    assert "The kept head hash is event #3 of this chain." in done.stdout


def test_audit_head_of_an_engagement_without_events_is_genesis(world: World):
    head = audit_head(engagement_id=world.engagement.pk)
    assert (head.seq, head.hash) == (0, GENESIS_HASH)


def test_export_refuses_an_engagement_without_events(world: World, tmp_path):
    with pytest.raises(CommandError, match="has no audit events"):
        call_command("audit", "export", str(world.engagement.pk), "-o", str(tmp_path / "x.jsonl"))
    assert not (tmp_path / "x.jsonl").exists()


def test_standalone_verifier_refuses_a_file_that_is_not_a_chain(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"chain": "system"}\n', encoding="utf-8")
    done = _standalone(bad)
    assert done.returncode == 2
    assert "line 1: not an audit event" in done.stderr


def test_verify_names_the_first_broken_event_of_each_chain(world: World):
    a, b = _two_engagements(world)
    _tamper("UPDATE audit_auditevent SET object_repr = 'x' WHERE chain = %s AND seq = 2", [f"engagement:{a}"])
    _tamper("DELETE FROM audit_auditevent WHERE chain = %s AND seq = 1", [f"engagement:{b}"])
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"2 of 2 audit chains are broken") as raised:
        call_command("audit", "verify", stderr=err)
    assert f"engagement:{a} at event #2" in str(raised.value)
    assert f"engagement:{b} at event #2" in str(raised.value)  # B's #1 is gone: the walk meets #2 first
    assert f"Audit trail of engagement:{b} is broken at event #2 (deleted)" in err.getvalue()
