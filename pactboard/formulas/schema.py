"""Declared shapes of raw-record datasets (pure: no ORM).

An engagement declares datasets by name, columns and types; uploads are validated against
the declaration and formulas may only name declared columns. The standard schemas below are
the ones the KPI catalogue's default formulas are written against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["timestamp", "date", "integer", "decimal", "float", "boolean", "text"]
COLUMN_TYPES: tuple[ColumnType, ...] = ("timestamp", "date", "integer", "decimal", "float", "boolean", "text")


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    nullable: bool = True
    description: str = ""


@dataclass(frozen=True)
class DatasetSchema:
    """A dataset's declared columns; ``time_column`` decides which period a record belongs to."""

    name: str
    columns: tuple[Column, ...]
    time_column: str

    def column(self, name: str) -> Column | None:
        for col in self.columns:
            if col.name == name:
                return col
        return None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


CONTACTS = DatasetSchema(
    name="contacts",
    time_column="opened_at",
    columns=(
        Column(
            "contact_id", "text", nullable=False, description="Unique id of the contact (call, chat, e-mail, ticket)"
        ),
        Column("opened_at", "timestamp", nullable=False, description="When the contact arrived (offered to the queue)"),
        Column("answered_at", "timestamp", description="When an agent answered; empty if never answered"),
        Column("resolved_at", "timestamp", description="When the contact was resolved; empty if still open"),
        Column("channel", "text", nullable=False, description="phone, chat, email, ..."),
        Column(
            "first_contact_resolved", "boolean", description="Resolved at first contact, no repeat within the window"
        ),
        Column("abandoned", "boolean", nullable=False, description="Customer hung up / left before an agent answered"),
        Column("csat", "integer", description="Post-contact survey score 1-5; empty if no response"),
        Column("nps", "integer", description="Likelihood-to-recommend score 0-10; empty if no response"),
        Column("handle_seconds", "float", description="Talk + hold + after-contact work, seconds"),
        Column("cost", "decimal", description="Fully loaded cost attributed to the contact, engagement currency"),
    ),
)

QA_SAMPLES = DatasetSchema(
    name="qa_samples",
    time_column="checked_at",
    columns=(
        Column("sample_id", "text", nullable=False),
        Column("checked_at", "timestamp", nullable=False),
        Column("fields_checked", "integer", nullable=False, description="Fields (or items) inspected"),
        Column("fields_in_error", "integer", nullable=False, description="Of those, how many were wrong"),
        Column("agent", "text"),
    ),
)

INVOICES = DatasetSchema(
    name="invoices",
    time_column="invoiced_at",
    columns=(
        Column("invoice_id", "text", nullable=False),
        Column("invoiced_at", "timestamp", nullable=False),
        Column("amount", "decimal", nullable=False),
        Column("kind", "text", description="fee, new_business, renewal, ..."),
    ),
)

WORK_LOG = DatasetSchema(
    name="work_log",
    time_column="interval_start",
    columns=(
        Column("interval_start", "timestamp", nullable=False, description="Start of the agent's logged interval"),
        Column("agent", "text", description="Agent (or team) the interval belongs to"),
        Column(
            "staffed_seconds",
            "float",
            nullable=False,
            description="Paid time the agent was logged in and available for work in the interval, seconds "
            "(excludes breaks, training and meetings)",
        ),
        Column("items_handled", "integer", nullable=False, description="Contacts or work items completed"),
    ),
)

WORK_ITEMS = DatasetSchema(
    name="work_items",
    time_column="completed_at",
    columns=(
        Column("item_id", "text", nullable=False, description="Unique id of the ticket, case or back-office item"),
        Column("received_at", "timestamp", nullable=False, description="When the item reached the provider"),
        Column("completed_at", "timestamp", nullable=False, description="When the provider completed it"),
        Column("due_at", "timestamp", description="SLA deadline for completion; empty if the item has no SLA"),
        Column("item_type", "text", description="incident, request, claim, ..."),
        Column("priority", "text", description="P1, P2, ... as the SLA defines them"),
        Column("agent", "text"),
    ),
)

BACKLOG_SNAPSHOTS = DatasetSchema(
    name="backlog_snapshots",
    time_column="taken_at",
    columns=(
        Column("taken_at", "timestamp", nullable=False, description="When the open items were counted"),
        Column("queue", "text", description="Queue or work type the count is for"),
        Column("open_items", "integer", nullable=False, description="Items open (received, not completed) then"),
    ),
)

LEADS = DatasetSchema(
    name="leads",
    time_column="created_at",
    columns=(
        Column("lead_id", "text", nullable=False),
        Column("created_at", "timestamp", nullable=False, description="When the lead was created or assigned"),
        Column("campaign", "text"),
        Column("cost", "decimal", description="Acquisition spend attributed to the lead, engagement currency"),
        Column("converted", "boolean", nullable=False, description="Became a customer (sale, sign-up, ...)"),
        Column("converted_at", "timestamp"),
        Column("revenue", "decimal", description="First-order or contract value of a converted lead"),
    ),
)

AVAILABILITY = DatasetSchema(
    name="availability",
    time_column="interval_start",
    columns=(
        Column("interval_start", "timestamp", nullable=False, description="Start of the measured interval"),
        Column("service", "text", nullable=False),
        Column(
            "agreed_seconds",
            "float",
            nullable=False,
            description="Agreed service time in the interval (hours the service must be up), seconds",
        ),
        Column(
            "downtime_seconds",
            "float",
            nullable=False,
            description="Unplanned unavailability within the agreed service time, seconds",
        ),
    ),
)

# One row per outage (or maintenance window). Availability is not a per-record aggregate: an
# outage may span periods, so the availability KPIs clip every outage to each period's exact
# minutes (pactboard.measurements.availability); started_at only files the record for uploads.
OUTAGES = DatasetSchema(
    name="outages",
    time_column="started_at",
    columns=(
        Column("started_at", "timestamp", nullable=False, description="When the service became unavailable"),
        Column(
            "ended_at",
            "timestamp",
            description="When it was available again; empty while the outage is ongoing (counted up to now)",
        ),
        Column("service", "text", nullable=False, description="The service (or component) that was down"),
        Column(
            "maintenance",
            "boolean",
            nullable=False,
            description="true for a planned maintenance window announced as the contract requires, false for an outage",
        ),
    ),
)

STANDARD_SCHEMAS: dict[str, DatasetSchema] = {
    s.name: s
    for s in (CONTACTS, QA_SAMPLES, INVOICES, WORK_LOG, WORK_ITEMS, BACKLOG_SNAPSHOTS, LEADS, AVAILABILITY, OUTAGES)
}
