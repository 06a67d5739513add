"""REST endpoints for the token's own organisation: its members, their roles, and invitations.

The same services as the members page. Every member reads the organisation and its members; only
administrators invite, change roles, remove members and see or revoke pending invitations (a read
token only reads). Another organisation's member or invitation is a 404. Every error has the one
body of pactboard.api (``ErrorOut``).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone
from ninja import Field, ModelSchema, Schema
from ninja.responses import Status

from pactboard.accounts import selectors, services
from pactboard.accounts.forms import InvitationForm
from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.accounts.models import Invitation, Membership, Organisation, Role
from pactboard.accounts.policy import members_manage_may
from pactboard.core.api import ApiRouter, ErrorOut, paged
from pactboard.core.forms import form_require_valid
from pactboard.core.policy import verdict_require

router = ApiRouter(tags=["organisation"])


class OwnOrganisationOut(ModelSchema):
    class Meta:
        model = Organisation
        fields = ["id", "name", "slug", "kind"]


class MemberOut(ModelSchema):
    """A member: the person (e-mail, name) and their role here; ``joined_at`` is when they became one."""

    email: str
    full_name: str
    joined_at: datetime

    class Meta:
        model = Membership
        fields = ["id", "role"]

    @staticmethod
    def resolve_email(obj: Membership) -> str:
        return obj.user.email

    @staticmethod
    def resolve_full_name(obj: Membership) -> str:
        return obj.user.full_name

    @staticmethod
    def resolve_joined_at(obj: Membership) -> datetime:
        return obj.created_at


class InvitationOut(ModelSchema):
    """A pending invitation: ``status`` is pending while its link works, then expired."""

    status: str
    invited_by: str | None

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "created_at", "expires_at"]

    @staticmethod
    def resolve_status(obj: Invitation) -> str:
        if obj.accepted_at is not None:
            return "accepted"
        return "pending" if obj.expires_at > timezone.now() else "expired"

    @staticmethod
    def resolve_invited_by(obj: Invitation) -> str | None:
        return obj.invited_by.email if obj.invited_by else None


class InvitationIn(Schema):
    email: str = Field(max_length=254)
    role: str = Field(default=Role.VIEWER.value, max_length=12, description="admin, manager, contributor or viewer")


class MemberPatch(Schema):
    role: str = Field(max_length=12, description="admin, manager, contributor or viewer")


@router.get("", response=OwnOrganisationOut)
def organisation_show(request: AuthenticatedHttpRequest) -> Organisation:
    """The organisation the token acts for."""
    return request.membership.organisation


@router.get("/members", response=list[MemberOut])
@paged
def organisation_member_list(request: AuthenticatedHttpRequest) -> QuerySet[Membership]:
    """The organisation's members by e-mail address, a page at a time."""
    return selectors.organisation_members(membership=request.membership)


@router.get("/members/{member_id}", response=MemberOut)
def organisation_member_get(request: AuthenticatedHttpRequest, member_id: int) -> Membership:
    return selectors.organisation_member_get(membership=request.membership, member_id=member_id)


@router.patch("/members/{member_id}", response=MemberOut)
def organisation_member_update(request: AuthenticatedHttpRequest, member_id: int, payload: MemberPatch) -> Membership:
    """Change a member's role (administrators only); the last administrator keeps the role (409)."""
    services.membership_role_set(actor=request.membership, member_id=member_id, role=payload.role)
    return selectors.organisation_member_get(membership=request.membership, member_id=member_id)


@router.delete("/members/{member_id}", response={204: None})
def organisation_member_remove(request: AuthenticatedHttpRequest, member_id: int) -> Status:
    """Remove a member (administrators only): their tokens are revoked and sessions ended.

    409 while they are the only administrator, or own open actions (each named in ``details``).
    """
    services.membership_remove(actor=request.membership, member_id=member_id)
    return Status(204, None)


@router.get("/invitations", response={200: list[InvitationOut], 403: ErrorOut})
@paged
def organisation_invitation_list(request: AuthenticatedHttpRequest) -> QuerySet[Invitation]:
    """Invitations not yet accepted, newest first (administrators only)."""
    verdict_require(members_manage_may(actor=request.membership))
    return selectors.organisation_pending_invitations(membership=request.membership)


@router.post("/invitations", response={201: InvitationOut})
def organisation_invitation_create(request: AuthenticatedHttpRequest, payload: InvitationIn) -> Status:
    """Invite an address with a role (administrators only); the same e-mail as the members page.

    409 when the address already has a pending invitation: its link cannot be sent again, so revoke
    it and invite again.
    """
    membership = request.membership
    verdict_require(members_manage_may(actor=membership))
    data = form_require_valid(InvitationForm(payload.dict()), "The invitation could not be sent.")
    invitation, _ = services.invitation_create(
        actor=membership, organisation=membership.organisation, email=data["email"], role=data["role"]
    )
    return Status(201, invitation)


@router.delete("/invitations/{invitation_id}", response={204: None})
def organisation_invitation_revoke(request: AuthenticatedHttpRequest, invitation_id: int) -> Status:
    """Revoke a pending invitation (administrators only): its link stops working. 409 once accepted."""
    services.invitation_revoke(actor=request.membership, invitation_id=invitation_id)
    return Status(204, None)
