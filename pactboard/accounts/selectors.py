"""Reads for accounts: memberships of a user, members of an organisation."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet
from django.utils import timezone

from pactboard.accounts.models import ApiToken, Invitation, Membership, User
from pactboard.core.errors import not_found


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


def organisation_member_get(*, membership: Membership, member_id: int) -> Membership:
    """One member of the actor's own organisation; another organisation's is not found (a 404)."""
    member = organisation_members(membership=membership).filter(pk=member_id).first()
    if member is None:
        raise not_found("No such member.")
    return member


def organisation_pending_invitations(*, membership: Membership) -> QuerySet[Invitation]:
    """Invitations of the actor's organisation not yet accepted (expired ones too), newest first."""
    return (
        Invitation.objects.filter(organisation_id=membership.organisation_id, accepted_at__isnull=True)
        .select_related("invited_by")
        .order_by("-created_at", "-id")
    )


def api_tokens_of_membership(*, membership: Membership) -> QuerySet[ApiToken]:
    """The membership's tokens that still work, newest first."""
    return ApiToken.objects.filter(
        membership=membership, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-created_at")


def api_tokens_of_organisation(*, membership: Membership) -> QuerySet[ApiToken]:
    """Every live token of the actor's organisation, for its administrators; newest first."""
    return (
        ApiToken.objects.filter(
            membership__organisation_id=membership.organisation_id,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("membership__user")
        .order_by("-created_at")
    )


def membership_by_email(*, email: str, organisation_names: Sequence[str]) -> Membership:
    """The membership of the user with ``email`` in the first of the named organisations they belong to."""
    memberships = {
        m.organisation.name: m
        for m in Membership.objects.select_related("user", "organisation").filter(
            user__email=email.strip().lower(), organisation__name__in=list(organisation_names)
        )
    }
    for name in organisation_names:
        if name in memberships:
            return memberships[name]
    raise not_found(f"{email} is not a member of {' or '.join(organisation_names)}.")


def membership_in_parties(*, email: str, organisation_ids: Sequence[int]) -> Membership | None:
    """The membership of the user with ``email`` in one of the given organisations (an engagement's parties)."""
    return (
        Membership.objects.select_related("user", "organisation")
        .filter(user__email=email.strip().lower(), organisation_id__in=list(organisation_ids))
        .order_by("organisation_id")
        .first()
    )
