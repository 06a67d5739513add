"""`pactboard audit verify` and `pactboard audit export ENGAGEMENT -o FILE.jsonl`.

verify recomputes every chain (one per engagement, one per organisation for its events outside
engagements, one for the system) and names the first broken event of each. export writes one
engagement's chain for the standalone verifier (pactboard/audit/standalone_verify.py).
"""

from __future__ import annotations

import os
import tempfile
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from pactboard.audit.chain import ChainResult
from pactboard.audit.selectors import (
    audit_chain_export,
    audit_engagement_verify,
    audit_head,
    audit_verify,
)


def _broken_line(result: ChainResult) -> str:
    p = result.problem
    assert p is not None
    return (
        f"Audit trail of {result.chain} is broken at event #{p.seq} ({p.kind}): {p.message}. "
        f"{max(result.count - 1, 0)} events before it are intact."
    )


class Command(BaseCommand):
    help = "Audit trail tools: `verify` checks every hash chain; `export ENGAGEMENT -o FILE` writes one chain."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["verify", "export"])
        parser.add_argument("engagement", nargs="?", type=int, help="export: the engagement id")
        parser.add_argument("-o", "--output", help="export: the .jsonl file to write")
        parser.add_argument("--engagement", dest="only", type=int, help="verify: only this engagement's chain")
        parser.add_argument("--head", help="verify --engagement: a head hash kept from a report, to check it is there")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "export":
            self._export(options["engagement"], options["output"])
        elif options["only"] is not None:
            self._verify_one(options["only"], options["head"])
        else:
            if options["head"]:
                raise CommandError("--head needs --engagement ID: a head hash belongs to one engagement's chain.")
            self._verify_all()

    def _verify_all(self) -> None:
        report = audit_verify()
        broken = report.broken
        for result in broken:
            self.stderr.write(_broken_line(result))
        if broken:
            raise CommandError(
                f"{len(broken)} of {len(report.chains)} audit chains are broken: "
                + "; ".join(f"{r.chain} at event #{r.problem.seq}" for r in broken if r.problem)
                + ". "
                + _broken_line(broken[0])
            )
        self.stdout.write(
            self.style.SUCCESS(f"Audit trail intact: {report.count} events in {len(report.chains)} chains.")
        )
        for result in report.chains:
            self.stdout.write(f"  {result.chain}: {result.count} events, head #{result.head_seq} {result.head_hash}")
        self.stdout.write(
            "Keep an engagement's head hash (reports carry it): removing the newest events of a chain "
            "can only be detected against it."
        )

    def _verify_one(self, engagement_id: int, head: str | None) -> None:
        result = audit_engagement_verify(engagement_id=engagement_id, head_hash=head)
        if result.problem is not None:
            raise CommandError(_broken_line(result))
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit trail intact: {result.count} events in {result.chain}, "
                f"head #{result.head_seq} {result.head_hash}."
            )
        )
        if head:
            self.stdout.write(f"The kept head hash is event #{result.hashes[head]} of this chain.")

    def _export(self, engagement_id: int | None, output: str | None) -> None:
        if engagement_id is None or not output:
            raise CommandError("Usage: pactboard audit export ENGAGEMENT_ID -o FILE.jsonl")
        head = audit_head(engagement_id=engagement_id)
        if head.seq == 0:
            raise CommandError(f"Engagement {engagement_id} has no audit events: check the engagement id.")
        target = Path(output)
        # Written beside the target and renamed, so a failed export never leaves half a file.
        fd, tmp = tempfile.mkstemp(dir=target.parent or Path("."), prefix=f".{target.name}.", suffix=".tmp")
        count = 0
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                for line in audit_chain_export(engagement_id=engagement_id):
                    fh.write(line)
                    count += 1
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {count} events of {head.chain} to {target}.")
            + f"\nCheck it offline: python pactboard/audit/standalone_verify.py {target}"
        )
