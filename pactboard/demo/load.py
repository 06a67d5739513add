"""Load the demo: one client (a retailer) and three providers, with users, profiles and engagements.

The engagements, their objectives and agreed KPI sets come from the engagement documents in
``pactboard/demo/engagements/``. Everything goes through the services, so the demo's audit
trail is the real thing.
Loading twice is harmless: an existing demo is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from pactboard.accounts.models import Membership, Organisation, Role, User
from pactboard.accounts.services import membership_create, organisation_create, user_create
from pactboard.demo.collaboration import demo_collaboration_load
from pactboard.demo.history import demo_history_load
from pactboard.demo.relevance import demo_relevance_load
from pactboard.demo.reports import demo_reports_load
from pactboard.demo.reviews import demo_reviews_load
from pactboard.documents.selectors import engagement_document_validate
from pactboard.documents.services import engagement_document_import
from pactboard.engagements.models import Engagement
from pactboard.engagements.services import provider_profile_update
from pactboard.governance.alerts import alerts_scan

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

# The demo's engagements, objectives and agreed KPI sets: engagement documents (docs/engagement-as-code.md).
ENGAGEMENTS_DIR = Path(__file__).resolve().parent / "engagements"


def demo_engagement_files() -> list[Path]:
    return sorted(ENGAGEMENTS_DIR.glob("*.yaml"))


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
    for path in demo_engagement_files():
        # Imported as contracts signed before Pactboard: the client admin and the provider's admin signed them.
        text = path.read_text(encoding="utf-8")
        document = engagement_document_validate(text=text)
        engagement_document_import(
            text=text,
            actor=client_admin,
            as_agreed=True,
            client_signer=client_admin,
            provider_signer=provider_admins[document.engagement.provider],
        )
    demo_history_load()  # 18 months of values, imports and datasets; does nothing if already there
    demo_reviews_load()  # a held review with minutes and actions, the next ones, an open feedback thread
    # Alerts now, so the first page shows them (the chronic flag of inside sales' revenue growth); the
    # scans that recording the values enqueued find nothing more to do when the worker runs them.
    now = timezone.now()
    for engagement in Engagement.objects.filter(status=Engagement.Status.ACTIVE).order_by("pk"):
        alerts_scan(engagement=engagement, now=now)
    demo_relevance_load()  # a closed KPI relevance review on the support engagement, every KPI kept
    demo_collaboration_load()  # a shared strategy note, knowledge-base articles, wins and kudos
    demo_reports_load()  # the monthly report archive of the last three months
    return logins
