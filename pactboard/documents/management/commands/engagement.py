"""`pactboard engagement validate|import|export|diff|schema`: engagements as YAML documents.

docs/engagement-as-code.md describes the format.
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from pactboard.accounts.models import Membership
from pactboard.accounts.selectors import membership_by_email
from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.documents.selectors import (
    engagement_document_export,
    engagement_document_validate,
    engagement_version_get,
)
from pactboard.documents.services import engagement_document_import
from pactboard.documents.spec import document_json_schema_text, document_warnings
from pactboard.documents.spec.diff import document_diff
from pactboard.engagements.selectors import engagement_lookup


class Command(BaseCommand):
    help = (
        "Engagements as YAML documents. validate FILE: check without changing anything. import FILE: a new draft "
        "version (--as-agreed records it as signed by both parties). export ENGAGEMENT: the YAML document. "
        "diff A B: what changed from one document to another. schema: the document's JSON Schema."
    )
    # Documents are checked by the command itself; the project-wide checks (URLs, templates) are not its business.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{validate,import,export,schema}")
        validate = actions.add_parser("validate", help="check a document; report every problem with its path")
        validate.add_argument("file", help="the YAML document, or - for standard input")

        load = actions.add_parser("import", help="import a document as a new version of its engagement")
        load.add_argument("file", help="the YAML document, or - for standard input")
        load.add_argument(
            "--actor",
            metavar="EMAIL",
            help="the manager of the client or the provider who drafts the version (default: the client signer)",
        )
        load.add_argument(
            "--as-agreed",
            action="store_true",
            help="record the version as signed by both parties outside Pactboard (migrating an existing contract)",
        )
        load.add_argument("--client-signer", metavar="EMAIL", help="with --as-agreed: who signed for the client")
        load.add_argument("--provider-signer", metavar="EMAIL", help="with --as-agreed: who signed for the provider")

        export = actions.add_parser("export", help="write an engagement as a YAML document")
        export.add_argument("engagement", help="the engagement's id or exact name")
        export.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
        export.add_argument(
            "--version", type=int, metavar="N", help="export version N (default: the newest draft, proposal or agreed)"
        )

        diff = actions.add_parser("diff", help="what changed from document A to document B (exit 1 if anything)")
        diff.add_argument("a", metavar="A.yaml", help="the document before ('-' for standard input)")
        diff.add_argument("b", metavar="B.yaml", help="the document after")

        schema = actions.add_parser("schema", help="print the JSON Schema of engagement documents")
        schema.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            {
                "validate": self._validate,
                "import": self._import,
                "export": self._export,
                "schema": self._schema,
                "diff": self._diff,
            }[options["action"]](options)
        except PactboardError as exc:
            self._fail(exc)

    # --- subcommands ---------------------------------------------------------------------------

    def _validate(self, options: dict[str, Any]) -> None:
        document = engagement_document_validate(text=self._read(options["file"]))
        self._warn(document_warnings(document))
        e = document.engagement
        self.stdout.write(
            self.style.SUCCESS(
                f"{options['file']}: valid. {e.name} ({e.client} / {e.provider}): "
                f"{len(document.objectives)} objectives, {len(document.kpis)} KPIs."
            )
        )

    def _import(self, options: dict[str, Any]) -> None:
        text = self._read(options["file"])
        document = engagement_document_validate(text=text)
        parties = [document.engagement.client, document.engagement.provider]
        problems: list[ErrorDetail] = []

        def member(option: str, names: list[str]) -> Membership | None:
            email = options[option]
            if not email:
                return None
            try:
                return membership_by_email(email=email, organisation_names=names)
            except PactboardError as exc:
                # membership_by_email's refusal (not_found) names no detail: the person is in neither party.
                code = next((d.code for d in exc.details if d.code), "not_a_member")
                problems.append(ErrorDetail(exc.message, "--" + option.replace("_", "-"), code))
                return None

        actor = member("actor", parties)
        client_signer = member("client_signer", parties[:1])
        provider_signer = member("provider_signer", parties[1:])
        if options["as_agreed"] and not (options["client_signer"] and options["provider_signer"]):
            problems.append(
                ErrorDetail("--as-agreed needs --client-signer EMAIL and --provider-signer EMAIL", code="required")
            )
        if not options["as_agreed"] and (options["client_signer"] or options["provider_signer"]):
            problems.append(
                ErrorDetail("--client-signer and --provider-signer are only for --as-agreed", code="not_applicable")
            )
        if not options["as_agreed"] and not options["actor"]:
            problems.append(
                ErrorDetail("say who drafts the version: --actor EMAIL (a manager of either party)", code="required")
            )
        if problems:
            raise PactboardError("The document was not imported; nothing was changed.", problems)
        self._warn(document_warnings(document))
        version = engagement_document_import(
            text=text,
            actor=actor,
            as_agreed=options["as_agreed"],
            client_signer=client_signer,
            provider_signer=provider_signer,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {document.engagement.name} ({document.engagement.client} / "
                f"{document.engagement.provider}) as version {version.number}, {version.get_status_display().lower()}"
                + (" (recorded as signed by both parties outside Pactboard)." if options["as_agreed"] else ".")
            )
        )

    def _export(self, options: dict[str, Any]) -> None:
        engagement = engagement_lookup(ref=options["engagement"])
        version = None
        if options["version"] is not None:
            version = engagement_version_get(engagement=engagement, number=options["version"])
        self._write(engagement_document_export(engagement=engagement, version=version), options["output"])

    def _diff(self, options: dict[str, Any]) -> None:
        documents = []
        for name in (options["a"], options["b"]):
            try:
                documents.append(engagement_document_validate(text=self._read(name)))
            except PactboardError as exc:
                raise PactboardError(f"{name}: {exc.message}", exc.details) from None
        changes = document_diff(documents[0], documents[1])
        if not changes:
            self.stdout.write("No differences.")
            return
        for change in changes:
            self.stdout.write(change.line())
        # Like diff(1): 1 means the documents differ, so scripts can tell without parsing.
        raise CommandError(f"{len(changes)} difference" + ("" if len(changes) == 1 else "s") + ".", returncode=1)

    def _schema(self, options: dict[str, Any]) -> None:
        self._write(document_json_schema_text(), options["output"])

    # --- helpers -------------------------------------------------------------------------------

    def _read(self, name: str) -> str:
        if name == "-":
            return sys.stdin.read()
        try:
            return Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {name}: {exc}") from None

    def _write(self, text: str, output: str | None) -> None:
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            with Path(output).open("w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc}") from None
        self.stderr.write(f"Wrote {output}.")

    def _warn(self, warnings: list[ErrorDetail]) -> None:
        for warning in warnings:
            self.stderr.write(self.style.WARNING(f"warning: {warning}"))

    def _fail(self, exc: PactboardError) -> None:
        # One problem per line, "path: message", so editors and CI logs can point at it.
        for detail in exc.details:
            self.stderr.write(str(detail))
        raise CommandError(exc.message, returncode=1)
