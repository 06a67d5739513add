"""Load benchmark: concurrent API clients of several tenants against the production setup.

    uv run python bench/bench_load.py                                   # 8 clients, 4 tenants, 30 s
    uv run python bench/bench_load.py --clients 16 --duration 60 --tenants 4

Everything is set up here and torn down at the end (also on Ctrl-C or SIGTERM):

1. a throwaway PostgreSQL 15 cluster (``/usr/lib/postgresql/15/bin``, run as the ``postgres`` user
   when started by root; default durability settings) on a free port, in a temporary directory;
2. ``migrate``, then T tenants through the services: a client and a provider organisation with an
   admin each, an engagement imported as agreed from an engagement document (8 weekly KPIs fed by
   the API, first-contact resolution and CSAT computed from a declared ``contacts`` dataset), and a
   read-and-write API token for each admin;
3. the production setup: gunicorn serving ``config.wsgi:application`` (``--app-workers`` processes
   of ``--app-threads`` threads) with debug off, and one ``pactboard db_worker``;
4. C client threads (client i works for tenant i mod T) for ``--duration`` seconds, each a loop
   of weighted random requests on its own keep-alive connection:
   - ``push``: POST /api/engagements/{id}/measurements, 10 values of weekly cells this client owns,
     with a new Idempotency-Key (provider's token); expected 201 ``{"created": 10, ...}``;
   - ``push-retry``: for a fifth of the pushes, the same request again with the same key (a client
     that lost the first answer); expected the very same 201 and body, and nothing written twice;
   - ``upload``: POST /api/engagements/{id}/datasets/contacts/uploads, a CSV of 40 contacts of one
     day (provider's token); expected 202; the worker checks it, stores a version and recomputes;
   - ``scorecard``: GET /api/engagements/{id}/scorecard?period=… (a week or a month; client's token);
   - ``engagements``: GET /api/engagements/ (the client's list of engagements).
5. then waits for the worker's queue to drain (``--drain-timeout``) and checks with the database
   (load_checks.py): no request failed, every acknowledged value stored exactly once with one
   revision and the value sent (per tenant, KPI and week), one stored Idempotency-Key per batch,
   every upload stored once as a dataset version from the very file sent, its task successful, and
   no task failed. Exit status 1 if any check fails.

Figures: requests per second over the measured window and p50/p95/max latency (client side, over
loopback HTTP) per kind of request and overall; the machine's load average before and during the
run. The driver runs on the same machine as the server, the worker and PostgreSQL, so the clients'
own CPU is part of what is measured. Results also go to ``bench/data/load-<time>.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_checks import (  # noqa: E402
    Ledger,
    Sample,
    StoredUpload,
    StoredValue,
    check_keys,
    check_requests,
    check_uploads,
    check_values,
    figures,
)

PG_BIN = Path("/usr/lib/postgresql/15/bin")
DATA_OUT = Path(__file__).resolve().parent / "data"
HOST = "127.0.0.1"
WEEKLY_KPIS = [f"w{i}" for i in range(8)]
START = date(2000, 1, 3)  # a Monday: the first day of 2000-W01
BATCH_SIZE = 10
UPLOAD_ROWS = 40
RETRY_SHARE = 0.2
# Request mix, by weight: writes dominate, as when providers feed the API; reads as people look.
MIX = {"push": 50, "upload": 10, "scorecard": 30, "engagements": 10}


# --- set-up ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class Postgres:
    """A throwaway cluster in a temporary directory, as .ci/run starts one; default durability settings."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="pactboard-load-pg."))
        self.port = free_port()
        self.started = False

    def start(self) -> str:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        data = self.dir / "data"
        subprocess.run(
            _as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = f"-c listen_addresses={HOST} -c port={self.port} -c unix_socket_directories={self.dir}"
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(self.dir / "log"), "-w", "-o", options, "start"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.started = True
        subprocess.run(
            _as_postgres([str(PG_BIN / "createdb"), "-h", HOST, "-p", str(self.port), "-U", "postgres", "pactboard"]),
            check=True,
        )
        return f"postgresql://postgres@{HOST}:{self.port}/pactboard"

    def stop(self, keep_log: Path | None = None) -> None:
        if keep_log is not None:
            with contextlib.suppress(OSError):
                shutil.copyfile(self.dir / "log", keep_log)
        if self.started:
            subprocess.run(
                _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop"]),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)


def production_env(*, database_url: str, data_dir: Path, port: int) -> dict[str, str]:
    """Debug off, a real secret key, the bench's host only; HTTPS redirect and secure cookies off (plain HTTP here)."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PACTBOARD_DEBUG": "false",
        "PACTBOARD_SECRET_KEY": secrets.token_urlsafe(50),
        "PACTBOARD_ALLOWED_HOSTS": HOST,
        "PACTBOARD_SITE_URL": f"http://{HOST}:{port}",
        "PACTBOARD_CSRF_TRUSTED_ORIGINS": f"http://{HOST}:{port}",
        "PACTBOARD_SSL_REDIRECT": "false",
        "PACTBOARD_SECURE_COOKIES": "false",
        "PACTBOARD_DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url,
        "PACTBOARD_LOG_LEVEL": "WARNING",
        # Invitation e-mails of the seeding go nowhere (no SMTP server here).
        "PACTBOARD_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }


@dataclass(frozen=True)
class Tenant:
    number: int
    engagement_id: int
    client_token: str
    provider_token: str


def _document(t: int) -> str:
    import yaml

    kpis: list[dict[str, Any]] = [
        {
            "code": code,
            "name": f"Weekly indicator {code}",
            "objectives": ["load"],
            "category": "operational",
            "unit": "%",
            "direction": "higher",
            "period": "week",
            "definition": "A weekly share the provider sends through the API.",
            "target": 80,
            "thresholds": {"amber": 75, "stretch": 90},
            "min_value": 0,
            "max_value": 100,
            "source": {"kind": "api"},
        }
        for code in WEEKLY_KPIS
    ]
    kpis += [
        {
            "code": "fcr",
            "catalogue": "first_contact_resolution",
            "objectives": ["load"],
            "target": 75,
            "thresholds": {"amber": 70, "stretch": 80},
            "source": {"kind": "dataset"},
        },
        {
            "code": "csat",
            "catalogue": "csat",
            "objectives": ["load"],
            "target": 80,
            "thresholds": {"amber": 75, "stretch": 90},
            "source": {"kind": "dataset"},
        },
    ]
    document = {
        "pactboard": 1,
        "engagement": {
            "name": f"Load engagement {t}",
            "client": f"Load Client {t}",
            "provider": f"Load Provider {t}",
            "scope": "Load benchmark tenant.",
            "start_date": START,
            "end_date": date(2030, 12, 31),
            "currency": "EUR",
            "monthly_fee": 100000,
            "time_zone": "UTC",
            "review_cadence": "monthly",
            "report_cadence": "monthly",
            "status": "active",
            "max_active_kpis": 12,
        },
        "datasets": [{"name": "contacts", "standard": "contacts", "description": "Contacts sent by the bench."}],
        "objectives": [{"key": "load", "horizon": "short", "statement": "Serve customers well"}],
        "kpis": kpis,
        "agreement": {"effective_from": START, "note": "Agreed before the load benchmark."},
    }
    return str(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))


def seed(tenants: int) -> list[Tenant]:
    """T tenants through the services (organisations, admins, an engagement imported as agreed, tokens)."""
    from pactboard.accounts.models import ApiToken, Organisation, Role
    from pactboard.accounts.services import api_token_create, membership_create, organisation_create, user_create
    from pactboard.documents.services import engagement_document_import

    out = []
    for t in range(tenants):
        client_org = organisation_create(name=f"Load Client {t}", kind=Organisation.Kind.CLIENT)
        provider_org = organisation_create(name=f"Load Provider {t}", kind=Organisation.Kind.PROVIDER)
        password = secrets.token_urlsafe(16)
        client = membership_create(
            user=user_create(email=f"client{t}@load.example", password=password, full_name=f"Client {t}"),
            organisation=client_org,
            role=Role.ADMIN,
        )
        provider = membership_create(
            user=user_create(email=f"provider{t}@load.example", password=password, full_name=f"Provider {t}"),
            organisation=provider_org,
            role=Role.ADMIN,
        )
        version = engagement_document_import(
            text=_document(t), actor=client, as_agreed=True, client_signer=client, provider_signer=provider
        )
        _, client_raw = api_token_create(membership=client, name="load bench", scope=ApiToken.Scope.WRITE)
        _, provider_raw = api_token_create(membership=provider, name="load bench", scope=ApiToken.Scope.WRITE)
        out.append(Tenant(t, version.engagement_id, client_raw, provider_raw))
    return out


class Processes:
    """The app server and the worker, each in its own process group, stopped by their ids."""

    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        with log.open("ab") as out:
            child = subprocess.Popen(  # our own commands
                argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, process_group=0
            )
        self.children.append((name, child))

    def dead(self) -> list[str]:
        return [f"{name} exited with {c.returncode}" for name, c in self.children if c.poll() is not None]

    def stop(self) -> None:
        for _, child in self.children:
            if child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGTERM)
        for _, child in self.children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        self.children.clear()


# --- the clients -----------------------------------------------------------------------------------


def _week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def closed_weeks(today: date) -> list[str]:
    """Every ISO week from START to the last one that has ended (values for open weeks are refused)."""
    last_monday = today - timedelta(days=today.weekday()) - timedelta(days=7)
    weeks, monday = [], START
    while monday <= last_monday:
        weeks.append(_week_label(monday))
        monday += timedelta(days=7)
    return weeks


def contacts_csv(rng: random.Random, *, day: date, prefix: str) -> bytes:
    """UPLOAD_ROWS contacts of one day (the standard contacts schema), each contact id unique to this file."""
    lines = [
        "contact_id,opened_at,answered_at,resolved_at,channel,first_contact_resolved,abandoned,csat,nps,"
        "handle_seconds,cost"
    ]
    for i in range(UPLOAD_ROWS):
        opened = datetime(day.year, day.month, day.day, 8, 0, tzinfo=UTC) + timedelta(minutes=13 * i)
        abandoned = rng.random() < 0.05
        answered = "" if abandoned else (opened + timedelta(seconds=rng.randint(5, 90))).isoformat()
        fcr = "" if abandoned else rng.choice(["true", "true", "true", "false"])
        csat = "" if abandoned or rng.random() < 0.6 else str(rng.randint(1, 5))
        lines.append(
            f"{prefix}-{i},{opened.isoformat()},{answered},,phone,{fcr},{str(abandoned).lower()},{csat},,"
            f"{rng.randint(120, 900)},{rng.randint(200, 900) / 100:.2f}"
        )
    return ("\n".join(lines) + "\n").encode()


def _multipart(field: str, filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


class Client(threading.Thread):
    """One API client: a keep-alive connection and a loop of weighted random requests until the deadline."""

    def __init__(
        self,
        number: int,
        tenant: Tenant,
        cells: list[tuple[str, str]],
        days: list[date],
        months: list[str],
        weeks: list[str],
        *,
        port: int,
        deadline: float,
        seed: int,
    ) -> None:
        super().__init__(name=f"client-{number}", daemon=True)
        self.number, self.tenant, self.cells, self.days = number, tenant, cells, days
        self.months, self.weeks = months, weeks
        self.port, self.deadline = port, deadline
        self.rng = random.Random(seed * 1000 + number)
        self.ledger = Ledger()
        self.conn: http.client.HTTPConnection | None = None
        self.sent = 0
        self.exhausted = False

    def _request(
        self, method: str, path: str, token: str, body: bytes | None = None, **headers: str
    ) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {token}", **headers}
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=120)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (ConnectionError, http.client.HTTPException, OSError):
                # A keep-alive connection the server closed (gunicorn recycles its processes): open a new one
                # once. Only a connection that failed before any answer is retried, so nothing is sent twice
                # that the server answered.
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def _timed(
        self, kind: str, method: str, path: str, token: str, body: bytes | None = None, **headers: str
    ) -> tuple[int, bytes, float]:
        start = time.perf_counter()
        try:
            status, payload = self._request(method, path, token, body, **headers)
        except Exception as exc:  # every failure is recorded, none stops the client
            ms = (time.perf_counter() - start) * 1000
            self.ledger.samples.append(Sample(kind, 0, ms, False, f"{type(exc).__name__}: {exc}"))
            return 0, b"", ms
        return status, payload, (time.perf_counter() - start) * 1000

    def push(self) -> None:
        if self.sent + BATCH_SIZE > len(self.cells):
            self.exhausted = True
            return self.read()
        cells = self.cells[self.sent : self.sent + BATCH_SIZE]
        self.sent += BATCH_SIZE
        values = {cell: Decimal(self.rng.randint(0, 10000)) / 100 for cell in cells}
        body = json.dumps(
            {
                "values": [{"kpi": k, "period": p, "value": str(v)} for (k, p), v in values.items()],
                "reason": "load bench",
            }
        ).encode()
        key = f"load-{self.number}-{uuid.uuid4().hex}"
        path = f"/api/engagements/{self.tenant.engagement_id}/measurements"
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        expected = {"created": BATCH_SIZE, "revised": 0, "unchanged": 0}
        status, payload, ms = self._timed("push", "POST", path, self.tenant.provider_token, body, **headers)
        if status == 0:
            return
        ok = status == 201 and json.loads(payload or b"null") == expected
        self.ledger.samples.append(Sample("push", status, ms, ok, "" if ok else payload[:300].decode(errors="replace")))
        if not ok:
            return
        t = self.tenant.number
        self.ledger.keys.setdefault(t, set()).add(key)
        for (kpi, period), value in values.items():
            self.ledger.values[(t, kpi, period)] = value
        if self.rng.random() < RETRY_SHARE:
            # The same batch again under the same key, as a client that lost the answer would: same answer, no write.
            status, payload, ms = self._timed("push-retry", "POST", path, self.tenant.provider_token, body, **headers)
            if status == 0:
                return
            ok = status == 201 and json.loads(payload or b"null") == expected
            self.ledger.retries += 1
            self.ledger.samples.append(
                Sample("push-retry", status, ms, ok, "" if ok else payload[:300].decode(errors="replace"))
            )

    def upload(self) -> None:
        day = self.rng.choice(self.days)
        n = len(self.ledger.uploads.get(self.tenant.number, {}))
        content = contacts_csv(self.rng, day=day, prefix=f"t{self.tenant.number}c{self.number}u{n}")
        body, content_type = _multipart("file", f"contacts-{day}-{self.number}-{n}.csv", content)
        path = f"/api/engagements/{self.tenant.engagement_id}/datasets/contacts/uploads"
        status, payload, ms = self._timed(
            "upload", "POST", path, self.tenant.provider_token, body, **{"Content-Type": content_type}
        )
        if status == 0:
            return
        ok = status == 202
        self.ledger.samples.append(
            Sample("upload", status, ms, ok, "" if ok else payload[:300].decode(errors="replace"))
        )
        if ok:
            batch_id = int(json.loads(payload)["id"])
            self.ledger.uploads.setdefault(self.tenant.number, {})[batch_id] = hashlib.sha256(content).hexdigest()
            self.ledger.files[batch_id] = (f"contacts-{day}-{self.number}-{n}.csv", content)

    def read(self, kind: str = "") -> None:
        kind = kind or self.rng.choice(["scorecard", "scorecard", "scorecard", "engagements"])
        if kind == "scorecard":
            period = self.rng.choice(self.weeks if self.rng.random() < 0.5 else self.months)
            path = f"/api/engagements/{self.tenant.engagement_id}/scorecard?period={period}"
        else:
            path = "/api/engagements/"
        status, payload, ms = self._timed(kind, "GET", path, self.tenant.client_token)
        if status == 0:
            return
        ok = status == 200
        self.ledger.samples.append(Sample(kind, status, ms, ok, "" if ok else payload[:300].decode(errors="replace")))

    def run(self) -> None:
        kinds, weights = list(MIX), list(MIX.values())
        while time.monotonic() < self.deadline:
            kind = self.rng.choices(kinds, weights)[0]
            if kind == "push":
                self.push()
            elif kind == "upload":
                self.upload()
            else:
                self.read(kind)
        if self.conn is not None:
            self.conn.close()


def _wait_ready(port: int, token: str, processes: Processes, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if dead := processes.dead():
            raise SystemExit(f"bench_load: {', '.join(dead)} before the run (logs in bench/data/)")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/api/engagements/", headers={"Authorization": f"Bearer {token}"})
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"bench_load: the app server did not answer within {timeout:.0f} s")


# --- after the run ---------------------------------------------------------------------------------


def drain(timeout: float) -> tuple[bool, float]:
    """Wait until no task is waiting or running and no import is pending or running; (drained, seconds)."""
    from django.db import close_old_connections
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from pactboard.measurements.models import ImportBatch

    start = time.monotonic()
    while True:
        busy_tasks = DBTaskResult.objects.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]).exists()
        busy_imports = ImportBatch.objects.filter(
            status__in=[ImportBatch.Status.PENDING, ImportBatch.Status.RUNNING]
        ).exists()
        waited = time.monotonic() - start
        if not busy_tasks and not busy_imports:
            return True, waited
        if waited > timeout:
            return False, waited
        close_old_connections()
        time.sleep(1)


CONFLICT = "was stored while this file was being checked"


def resend_conflicts(ledger: Ledger, tenants: list[Tenant], port: int) -> list[str]:
    """Send again, once, each upload the worker refused because another one of its dataset landed meanwhile.

    That refusal asks for exactly this ("upload this file again so that it is merged with that one"):
    with several workers, two uploads of one dataset can be checked at the same time.
    """
    from pactboard.measurements.models import ImportBatch

    by_number = {t.number: t for t in tenants}
    refused = set(
        ImportBatch.objects.filter(
            pk__in=list(ledger.files), status=ImportBatch.Status.FAILED, message__contains=CONFLICT
        ).values_list("pk", flat=True)
    )
    problems = []
    for tenant_number, uploads in ledger.uploads.items():
        tenant = by_number[tenant_number]
        for old in sorted(refused & set(uploads)):
            name, content = ledger.files[old]
            body, content_type = _multipart("file", name, content)
            conn = http.client.HTTPConnection(HOST, port, timeout=120)
            conn.request(
                "POST",
                f"/api/engagements/{tenant.engagement_id}/datasets/contacts/uploads",
                body=body,
                headers={"Authorization": f"Bearer {tenant.provider_token}", "Content-Type": content_type},
            )
            response = conn.getresponse()
            payload = response.read()
            conn.close()
            if response.status != 202:
                problems.append(f"re-upload of batch {old}: HTTP {response.status}: {payload[:200]!r}")
                continue
            new = int(json.loads(payload)["id"])
            uploads[new] = uploads.pop(old)
            ledger.files[new] = ledger.files.pop(old)
            ledger.resent += 1
    return problems


def database_checks(ledger: Ledger, tenants: list[Tenant]) -> tuple[list[str], dict[str, Any]]:
    from django.db.models import Count
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from pactboard.core.periods import Period
    from pactboard.measurements.models import DatasetVersion, IdempotencyKey, ImportBatch, Measurement

    by_engagement = {t.engagement_id: t.number for t in tenants}
    stored_values = [
        StoredValue(
            tenant=by_engagement[m.engagement_id],
            kpi=m.kpi_code,
            period=Period(m.period_kind, m.period_start).label,  # type: ignore[arg-type]
            value=m.value,
            revisions=m.n_revisions,  # type: ignore[attr-defined]
        )
        for m in Measurement.objects.filter(engagement_id__in=by_engagement, kpi_code__in=WEEKLY_KPIS).annotate(
            n_revisions=Count("revisions")
        )
    ]
    stored_keys: dict[int, list[str]] = {}
    for engagement_id, key in IdempotencyKey.objects.filter(engagement_id__in=by_engagement).values_list(
        "engagement_id", "key"
    ):
        stored_keys.setdefault(by_engagement[engagement_id], []).append(key)
    task_statuses: dict[int, list[str]] = {}
    for args_kwargs, status in DBTaskResult.objects.filter(task_path__endswith="dataset_upload_task").values_list(
        "args_kwargs", "status"
    ):
        task_statuses.setdefault(int(args_kwargs["args"][0]), []).append(status)
    versions_by_sha: dict[tuple[int, str], int] = {}
    versions_per_tenant: dict[int, int] = {}
    for engagement_id, sha in DatasetVersion.objects.filter(dataset__engagement_id__in=by_engagement).values_list(
        "dataset__engagement_id", "upload_sha256"
    ):
        t = by_engagement[engagement_id]
        versions_by_sha[(t, sha)] = versions_by_sha.get((t, sha), 0) + 1
        versions_per_tenant[t] = versions_per_tenant.get(t, 0) + 1
    stored_uploads = [
        StoredUpload(
            tenant=by_engagement[b.engagement_id],
            batch_id=b.pk,
            status=b.status,
            file_sha256=b.file_sha256,
            versions=versions_by_sha.get((by_engagement[b.engagement_id], b.file_sha256), 0),
            task_statuses=tuple(task_statuses.get(b.pk, [])),
            message=b.message,
        )
        for b in ImportBatch.objects.filter(engagement_id__in=by_engagement, kind=ImportBatch.Kind.RECORDS)
    ]
    failed_tasks = list(
        DBTaskResult.objects.filter(status=TaskResultStatus.FAILED).values_list("task_path", "exception_class_path")
    )
    problems = [
        *check_values(ledger.values, stored_values),
        *check_keys(ledger.keys, stored_keys),
        *check_uploads(ledger.uploads, stored_uploads, versions_per_tenant),
        *[f"task failed: {path} ({exc})" for path, exc in failed_tasks],
    ]
    done = ImportBatch.objects.filter(engagement_id__in=by_engagement, kind=ImportBatch.Kind.RECORDS)
    lags = sorted((b.updated_at - b.created_at).total_seconds() for b in done)
    counts = {
        "values_acknowledged": len(ledger.values),
        "values_stored": len(stored_values),
        "keys_acknowledged": sum(len(k) for k in ledger.keys.values()),
        "keys_stored": sum(len(k) for k in stored_keys.values()),
        "retries": ledger.retries,
        "uploads_resent_after_conflict": ledger.resent,
        "uploads_accepted": sum(len(u) for u in ledger.uploads.values()),
        "dataset_versions": sum(versions_per_tenant.values()),
        "tasks": DBTaskResult.objects.count(),
        "tasks_by_name": dict(
            DBTaskResult.objects.values_list("task_path").annotate(n=Count("id")).values_list("task_path", "n")
        ),
        "tasks_failed": len(failed_tasks),
        "upload_to_done_s": lags,
    }
    return problems, counts


# --- the run ---------------------------------------------------------------------------------------


class LoadSampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="loadavg", daemon=True)
        self.samples: list[tuple[float, float, float]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(2):
            self.samples.append(os.getloadavg())


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8, help="concurrent API clients (threads)")
    parser.add_argument("--duration", type=float, default=30, help="seconds of load")
    parser.add_argument("--tenants", type=int, default=4, help="tenants (client + provider + engagement each)")
    parser.add_argument("--app-workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--app-threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--db-workers", type=int, default=1, help="`pactboard db_worker` processes")
    parser.add_argument("--drain-timeout", type=float, default=600, help="seconds to wait for the worker's queue")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.clients < 1 or args.tenants < 1 or args.duration <= 0:
        parser.error("--clients and --tenants at least 1, --duration above 0")

    signal.signal(signal.SIGTERM, _on_sigterm)
    pg = Postgres()
    data_dir = Path(tempfile.mkdtemp(prefix="pactboard-load-data."))
    logs = DATA_OUT / f"load-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    logs.mkdir(parents=True)
    processes = Processes()
    sampler = LoadSampler()
    try:
        return _run(args, pg, data_dir, logs, processes, sampler)
    except KeyboardInterrupt:
        print("\nbench_load: interrupted; tearing down", file=sys.stderr)
        return 130
    finally:
        sampler.stopping.set()
        processes.stop()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        pg.stop(keep_log=logs / "postgresql.log")
        shutil.rmtree(data_dir, ignore_errors=True)


def _run(
    args: argparse.Namespace, pg: Postgres, data_dir: Path, logs: Path, processes: Processes, sampler: LoadSampler
) -> int:
    load_before = os.getloadavg()
    port = free_port()
    print(f"PostgreSQL 15 on port {pg.port} ...", flush=True)
    env = production_env(database_url=pg.start(), data_dir=data_dir, port=port)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    tenants = seed(args.tenants)
    print(f"{args.tenants} tenants seeded in {time.monotonic() - started:.1f} s", flush=True)
    connection.close()

    bin_dir = Path(sys.executable).parent
    child_env = {**os.environ, **env}
    processes.start(
        "gunicorn",
        [
            str(bin_dir / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(args.app_workers),
            "--threads",
            str(args.app_threads),
            "--timeout",
            "60",
            "--max-requests",
            "2000",
            "--max-requests-jitter",
            "200",
            # gunicorn's control socket is one path per user (~/.gunicorn/gunicorn.ctl): not this throwaway server's.
            "--no-control-socket",
        ],
        child_env,
        logs / "gunicorn.log",
    )
    for i in range(args.db_workers):
        processes.start(
            f"db_worker {i}",
            [str(bin_dir / "pactboard"), "db_worker", "--interval", "0.5", "--no-reload", "--worker-id", f"load-{i}"],
            child_env,
            logs / f"db_worker-{i}.log",
        )
    _wait_ready(port, tenants[0].client_token, processes)

    weeks = closed_weeks(date.today())
    cells_all = [(kpi, week) for week in weeks for kpi in WEEKLY_KPIS]
    days = [date(2024, 1, 1) + timedelta(days=d) for d in range(731)]  # 2024 and 2025
    months = [f"{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13)]
    clients_of: dict[int, list[int]] = {}
    for c in range(args.clients):
        clients_of.setdefault(c % args.tenants, []).append(c)
    clients = []
    deadline = time.monotonic() + args.duration
    for c in range(args.clients):
        tenant = tenants[c % args.tenants]
        mates = clients_of[tenant.number]
        share = mates.index(c)
        # Each client owns its own cells and days of its tenant: what one sent is known exactly.
        clients.append(
            Client(
                c,
                tenant,
                cells_all[share :: len(mates)],
                days[share :: len(mates)],
                months,
                weeks[-104:],
                port=port,
                deadline=deadline,
                seed=args.seed,
            )
        )
    print(f"{args.clients} clients for {args.duration:.0f} s ...", flush=True)
    sampler.start()
    t0 = time.monotonic()
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    seconds = time.monotonic() - t0
    sampler.stopping.set()
    load_during = list(sampler.samples)
    dead = processes.dead()

    ledger = Ledger()
    for client in clients:
        ledger.merge(client.ledger)
    print(f"load over after {seconds:.1f} s; waiting for the worker's queue ...", flush=True)
    drained, drain_seconds = drain(args.drain_timeout)
    problems = check_requests(ledger.samples)
    for _ in range(3):
        resent = ledger.resent
        problems += resend_conflicts(ledger, tenants, port)
        if ledger.resent == resent:
            break
        drained, more = drain(args.drain_timeout)
        drain_seconds += more
    if dead:
        problems += [f"process died: {d}" for d in dead]
    if not drained:
        problems.append(f"the worker's queue did not drain within {args.drain_timeout:.0f} s")
    db_problems, counts = database_checks(ledger, tenants)
    problems += db_problems
    rows = figures(ledger.samples, seconds)
    _report(args, rows, counts, problems, load_before, load_during, seconds, drain_seconds, clients, logs)
    return 1 if problems else 0


def _report(
    args: argparse.Namespace,
    rows: list[Any],
    counts: dict[str, Any],
    problems: list[str],
    load_before: tuple[float, float, float],
    load_during: list[tuple[float, float, float]],
    seconds: float,
    drain_seconds: float,
    clients: list[Client],
    logs: Path,
) -> None:
    from django.db import connection
    from load_checks import percentile

    lags = counts.pop("upload_to_done_s")
    tasks_by_name = counts.pop("tasks_by_name")
    during_1m = [s[0] for s in load_during] or [float("nan")]
    setup = {
        "clients": args.clients,
        "tenants": args.tenants,
        "duration_s": args.duration,
        "app_server": f"gunicorn {args.app_workers} workers x {args.app_threads} threads (config.wsgi)",
        "db_workers": args.db_workers,
        "database": f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}",  # type: ignore[attr-defined]
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "mix": MIX,
        "batch_size": BATCH_SIZE,
        "upload_rows": UPLOAD_ROWS,
        "retry_share": RETRY_SHARE,
    }
    print("\nSettings: " + json.dumps(setup))
    print(
        f"Load average (1 min) before: {load_before[0]:.2f}; during: mean "
        f"{sum(during_1m) / len(during_1m):.2f}, max {max(during_1m):.2f} ({os.cpu_count()} CPUs)"
    )
    print(f"\n{seconds:.1f} s measured; queue drained {drain_seconds:.1f} s after the load stopped.\n")
    print("| request | count | failed | req/s | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r.kind} | {r.requests:,} | {r.failed} | {r.per_second:.1f} | {r.p50_ms:.0f} | {r.p95_ms:.0f} "
            f"| {r.max_ms:.0f} |"
        )
    if lags:
        print(
            f"\nUpload accepted -> version stored (worker): p50 {percentile(lags, 50):.1f} s, "
            f"p95 {percentile(lags, 95):.1f} s, max {max(lags):.1f} s over {len(lags)} uploads"
        )
    if any(c.exhausted for c in clients):
        print("Note: some clients used up their cells and sent reads instead of further pushes.")
    print("\nCounts: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    print("Tasks run by the worker: " + ", ".join(f"{k.rsplit('.', 1)[-1]} {v:,}" for k, v in tasks_by_name.items()))
    if problems:
        print(f"\nFAILED: {len(problems)} problem(s)")
        for p in problems[:50]:
            print(f"  - {p}")
    else:
        print(
            "\nOK: no request failed; every acknowledged value stored exactly once with the value sent; "
            "retried keys wrote nothing; every upload is one dataset version and its task succeeded."
        )
    DATA_OUT.mkdir(exist_ok=True)
    out = logs / "result.json"
    out.write_text(
        json.dumps(
            {
                "settings": setup,
                "seconds": seconds,
                "drain_seconds": drain_seconds,
                "load_before": load_before,
                "load_during": load_during,
                "figures": [vars(r) for r in rows],
                "counts": counts,
                "tasks_by_name": tasks_by_name,
                "upload_to_done_s": lags,
                "problems": problems,
            },
            indent=2,
            default=str,
        ),
        encoding="utf-8",
    )
    print(f"\nWritten: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    raise SystemExit(main())
