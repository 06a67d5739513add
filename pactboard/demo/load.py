"""Load the demo: one client (a retailer) and three providers, with users, objectives and profiles.

Everything goes through the services, so the demo's audit trail is the real thing.
Loading twice is harmless: an existing demo is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from pactboard.accounts.models import Membership, Organisation, Role, User
from pactboard.accounts.services import membership_create, organisation_create, user_create
from pactboard.engagements.models import Engagement
from pactboard.engagements.services import engagement_create, objective_create, provider_profile_update

DEMO_PASSWORD = "pactboard-demo-2026"
CLIENT_NAME = "Northwind Retail"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    organisation: str
    role: str


PEOPLE: list[tuple[str, str, str, str]] = [
    # (e-mail, full name, organisation, role)
    ("vera.client@northwind.example", "Vera Lindqvist", CLIENT_NAME, Role.ADMIN),
    ("felix.finance@northwind.example", "Felix Okafor", CLIENT_NAME, Role.VIEWER),
    ("paul.provider@brightline.example", "Paul Mensah", "Brightline Support", Role.ADMIN),
    ("tara.lead@brightline.example", "Tara Nguyen", "Brightline Support", Role.CONTRIBUTOR),
    ("kim.manager@keystone.example", "Kim Duarte", "Keystone Data Services", Role.ADMIN),
    ("sam.sales@summit.example", "Sam Ito", "Summit Inside Sales", Role.ADMIN),
]

PROFILES: dict[str, dict[str, str]] = {
    "Brightline Support": {
        "summary": "Multilingual customer-support BPO for retail and e-commerce.",
        "expertise": "Retail customer service\nOrder and returns handling\nEnglish, German, Spanish, Polish",
        "resources": "420 agents, 38 team leads\nGenesys Cloud telephony, Zendesk\nWorkforce management team of 6",
        "locations": "Kraków, Poland (CET)\nCape Town, South Africa (SAST)",
        "certifications": "ISO 27001:2022\nPCI DSS v4.0 (level 1 service provider)\nCOPC CX Standard",
        "limitations": "No outbound telesales\nNo weekend night shift before 2027",
    },
    "Keystone Data Services": {
        "summary": "Back-office data entry and document processing.",
        "expertise": "Invoice and order entry\nProduct catalogue enrichment\nDouble-key verification",
        "resources": "120 operators\nOCR pipeline with human validation",
        "locations": "Manila, Philippines (PHT)",
        "certifications": "ISO 9001:2015\nISO 27001:2022",
        "limitations": "No voice work\nTurnaround under 4 hours only for priority queues",
    },
    "Summit Inside Sales": {
        "summary": "Inside sales and lead qualification for B2B and B2C retail offers.",
        "expertise": "Lead qualification\nLoyalty-programme upsell\nCRM hygiene",
        "resources": "60 sales development reps\nSalesforce, Outreach",
        "locations": "Lisbon, Portugal (WET)",
        "certifications": "ISO 27001:2022",
        "limitations": "No field sales",
    },
}

ENGAGEMENTS: list[dict[str, Any]] = [
    {
        "provider": "Brightline Support",
        "name": "Customer support (EMEA)",
        "scope": "Phone, chat and e-mail support for Northwind's EMEA web shop: orders, delivery, returns, "
        "loyalty programme. About 45,000 contacts a month in four languages.",
        "monthly_fee": Decimal("412500.00"),
        "time_zone": "Europe/Berlin",
        "objectives": [
            (
                "short",
                "Resolve more customer issues at the first contact",
                "First-contact resolution",
                "≥ 75 %",
                date(2026, 12, 31),
                "Repeat contacts cost twice and drive churn in the loyalty programme.",
            ),
            (
                "short",
                "Answer customers quickly on the phone",
                "Service level (answered within 20 s)",
                "≥ 80 %",
                date(2026, 12, 31),
                "Long waits are the top complaint in the annual customer survey.",
            ),
            (
                "long",
                "Make support a reason customers stay",
                "CSAT (top-two-box)",
                "≥ 88 %",
                date(2027, 12, 31),
                "Satisfied customers buy 1.6× more over two years (loyalty analytics).",
            ),
            ("long", "Lower the cost of serving a customer", "Cost per contact", "", None, ""),
        ],
    },
    {
        "provider": "Keystone Data Services",
        "name": "Invoice and catalogue data entry",
        "scope": "Entry and verification of supplier invoices and product catalogue data for all regions.",
        "monthly_fee": Decimal("96000.00"),
        "time_zone": "Asia/Manila",
        "objectives": [
            (
                "short",
                "Enter supplier invoices without errors",
                "Accuracy rate (fields without error)",
                "≥ 99.5 %",
                date(2026, 12, 31),
                "Wrong invoices delay supplier payments and lose early-payment discounts.",
            ),
            (
                "short",
                "Process invoices within one business day",
                "Turnaround time",
                "≤ 8 hours",
                date(2027, 3, 31),
                "Finance closes the month on day 3.",
            ),
        ],
    },
    {
        "provider": "Summit Inside Sales",
        "name": "Loyalty programme inside sales",
        "scope": "Qualify web leads and sell the paid tier of the loyalty programme by phone and e-mail.",
        "monthly_fee": Decimal("150000.00"),
        "time_zone": "Europe/Lisbon",
        "objectives": [
            (
                "short",
                "Acquire paid loyalty members at a sustainable cost",
                "Cost per acquisition",
                "≤ 45 EUR",
                date(2027, 6, 30),
                "The paid tier pays back after 7 months at 45 EUR acquisition cost.",
            ),
            ("long", "Grow loyalty revenue", "Revenue growth, month on month", "", date(2027, 12, 31), ""),
        ],
    },
]


def demo_exists() -> bool:
    return Organisation.objects.filter(name=CLIENT_NAME, kind=Organisation.Kind.CLIENT).exists()


@transaction.atomic
def demo_load() -> list[DemoLogin]:
    """Create the demo if it is not there; return the log-ins to print."""
    logins = [DemoLogin(email, org, role) for email, _, org, role in PEOPLE]
    if demo_exists():
        return logins
    orgs = {CLIENT_NAME: organisation_create(name=CLIENT_NAME, kind=Organisation.Kind.CLIENT)}
    for name in PROFILES:
        orgs[name] = organisation_create(name=name, kind=Organisation.Kind.PROVIDER)
    users: dict[str, User] = {}
    memberships: dict[str, Membership] = {}
    for email, full_name, org_name, role in PEOPLE:
        users[email] = user_create(email=email, password=DEMO_PASSWORD, full_name=full_name)
        memberships[email] = membership_create(user=users[email], organisation=orgs[org_name], role=role)
    provider_admins = {m.organisation.name: m for m in memberships.values() if m.role == Role.ADMIN}
    for org_name, profile in PROFILES.items():
        provider_profile_update(actor=provider_admins[org_name], **profile)
    client_admin = memberships["vera.client@northwind.example"]
    for spec in ENGAGEMENTS:
        provider = orgs[str(spec["provider"])]
        engagement = engagement_create(
            actor=client_admin,
            provider=provider,
            name=str(spec["name"]),
            scope=str(spec["scope"]),
            start_date=date(2025, 5, 1),
            end_date=date(2028, 4, 30),
            currency="EUR",
            monthly_fee=spec["monthly_fee"],
            time_zone=str(spec["time_zone"]),
            status=Engagement.Status.ACTIVE,
        )
        owner_by_org = {
            "client": users["vera.client@northwind.example"],
            "provider": provider_admins[provider.name].user,
        }
        for i, (horizon, statement, measure, target, deadline, relevance) in enumerate(spec["objectives"]):
            objective_create(
                actor=client_admin,
                engagement=engagement,
                horizon=horizon,
                statement=statement,
                measure=measure,
                target=target,
                deadline=deadline,
                relevance=relevance,
                # Leave one objective without an owner so the SMART check has something to say.
                owner=None if not target else owner_by_org["provider" if i % 2 else "client"],
            )
    return logins
