"""Reads for accounts: memberships of a user, members of an organisation."""

from __future__ import annotations

from django.db.models import QuerySet

from pactboard.accounts.models import Invitation, Membership, User


def memberships_of_user(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organisation").order_by("organisation__name")


def membership_for_user(*, user: User, membership_id: int | None) -> Membership | None:
    """The membership the user chose (or their first one); None if they belong nowhere."""
    qs = memberships_of_user(user=user)
    if membership_id is not None:
        chosen = qs.filter(pk=membership_id).first()
        if chosen is not None:
            return chosen
    return qs.first()


def organisation_members(*, membership: Membership) -> QuerySet[Membership]:
    """Members of the actor's own organisation."""
    return (
        Membership.objects.filter(organisation_id=membership.organisation_id)
        .select_related("user")
        .order_by("user__email")
    )


def organisation_pending_invitations(*, membership: Membership) -> QuerySet[Invitation]:
    return Invitation.objects.filter(organisation_id=membership.organisation_id, accepted_at__isnull=True).order_by(
        "-created_at"
    )
