"""Writes for organisations, memberships, invitations and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import SESSION_KEY as AUTH_USER_SESSION_KEY
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from pactboard.accounts import ports
from pactboard.accounts.middleware import SESSION_KEY
from pactboard.accounts.models import ApiToken, Invitation, Membership, Organisation, Role, User
from pactboard.accounts.policy import members_manage_may
from pactboard.audit.services import audit_record, model_snapshot
from pactboard.core.errors import ErrorDetail, PactboardError, forbidden, invalid, not_found
from pactboard.core.locks import for_update
from pactboard.core.policy import verdict_require


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _unique_slug(name: str) -> str:
    base = slugify(name)[:70] or "org"
    slug, n = base, 2
    while Organisation.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def organisation_create(*, name: str, kind: str, actor: User | None = None) -> Organisation:
    """Create a client or provider organisation."""
    name = name.strip()
    if not name:
        raise invalid("Give the organisation a name.", location="name", code="required")
    if kind not in Organisation.Kind.values:
        raise invalid("The kind must be client or provider.", location="kind", code="invalid_choice")
    with transaction.atomic():
        org = Organisation.objects.create(name=name, kind=kind, slug=_unique_slug(name))
        audit_record(actor=actor, organisation=org, action="organisation.create", obj=org, after=model_snapshot(org))
    return org


def user_create(*, email: str, password: str | None, full_name: str = "") -> User:
    """Create a user who logs in by e-mail."""
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise invalid("A user with this e-mail address already exists.", location="email", code="duplicate_email")
    with transaction.atomic():
        user = User.objects.create_user(email=email, password=password, full_name=full_name.strip())
        audit_record(actor=user, organisation=None, action="user.create", obj=user, after={"email": email})
    return user


def membership_create(*, user: User, organisation: Organisation, role: str, actor: User | None = None) -> Membership:
    """Give ``user`` a role in ``organisation`` (idempotent: an existing membership keeps its role)."""
    if role not in Role.values:
        raise invalid(
            f"Unknown role {role!r}: use one of {', '.join(Role.values)}.", location="role", code="invalid_choice"
        )
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            user=user, organisation=organisation, defaults={"role": role}
        )
        if created:
            audit_record(
                actor=actor or user,
                organisation=organisation,
                action="membership.create",
                obj=membership,
                after={"user": user.email, "role": role},
            )
    return membership


def invitation_create(
    *, actor: Membership | None, organisation: Organisation, email: str, role: str, invited_by: User | None = None
) -> tuple[Invitation, str]:
    """Invite ``email`` to ``organisation``; returns the invitation and its one-time token (e-mailed)."""
    if actor is not None:
        verdict_require(members_manage_may(actor=actor))
        if actor.organisation_id != organisation.pk:
            raise forbidden("Only an administrator of this organisation can invite people.")
    email = email.strip().lower()
    errors: list[ErrorDetail] = []
    if "@" not in email:
        errors.append(ErrorDetail("Enter a valid e-mail address.", "email", "invalid_email"))
    if role not in Role.values:
        errors.append(ErrorDetail(f"Unknown role {role!r}.", "role", "invalid_choice"))
    if errors:
        raise PactboardError("The invitation could not be sent.", errors)
    if Membership.objects.filter(organisation=organisation, user__email=email).exists():
        raise invalid(f"{email} is already a member of {organisation}.", location="email", code="already_member")
    pending = (
        Invitation.objects.filter(
            organisation=organisation, email=email, accepted_at__isnull=True, expires_at__gt=timezone.now()
        )
        .order_by("-created_at")
        .first()
    )
    if pending is not None:
        # Its link was e-mailed once and is not stored, so it cannot be sent again: say how to send a new one.
        raise PactboardError(
            f"{email} already has a pending invitation {pending.pk} to {organisation}, valid until "
            f"{pending.expires_at:%Y-%m-%d %H:%M} UTC: revoke it first to send a new link.",
            [ErrorDetail("A pending invitation exists for this address.", "email", "pending_invitation")],
            kind="conflict",
        )
    raw = secrets.token_urlsafe(32)
    inviter = invited_by or (actor.user if actor else None)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            organisation=organisation,
            email=email,
            role=role,
            token_hash=_token_hash(raw),
            invited_by=inviter,
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
        )
        audit_record(
            actor=inviter,
            organisation=organisation,
            action="invitation.create",
            obj=invitation,
            after={"email": email, "role": role},
        )
        link = settings.SITE_URL + reverse("accounts:invitation_accept", args=[raw])
        who = inviter.display_name if inviter else "Pactboard"
        transaction.on_commit(
            lambda: send_mail(
                subject=f"You are invited to {organisation.name} on Pactboard",
                message=(
                    f"{who} invites you to join {organisation.name} on Pactboard as {Role(role).label.lower()}.\n\n"
                    f"Accept the invitation (the link works once, for {settings.INVITATION_TTL_DAYS} days):\n{link}\n"
                ),
                from_email=None,
                recipient_list=[email],
            )
        )
    return invitation, raw


def invitation_get_usable(*, token: str) -> Invitation:
    """The pending invitation behind a one-time token, or an error saying why it cannot be used."""
    invitation = Invitation.objects.select_related("organisation").filter(token_hash=_token_hash(token)).first()
    if invitation is None:
        raise invalid("This invitation link is not valid. Ask your administrator for a new one.")
    if invitation.accepted_at is not None:
        raise invalid("This invitation has already been used. Log in, or ask for a new invitation.")
    if invitation.expires_at <= timezone.now():
        raise invalid("This invitation has expired. Ask your administrator for a new one.")
    return invitation


def invitation_accept(
    *, token: str, user: User | None = None, full_name: str = "", password: str | None = None
) -> Membership:
    """Use a one-time invitation: an existing (logged-in) user joins, or a new user is created."""
    with transaction.atomic():
        invitation = invitation_get_usable(token=token)
        invitation = for_update(Invitation.objects.all()).get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise invalid("This invitation has already been used.")
        if user is None:
            existing = User.objects.filter(email=invitation.email).first()
            if existing is not None:
                raise invalid("An account with this e-mail address exists: log in first, then open the link again.")
            if not password:
                raise invalid("Choose a password.", location="password", code="required")
            try:
                validate_password(password, User(email=invitation.email, full_name=full_name))
            except ValidationError as exc:
                raise PactboardError(
                    "Choose a stronger password.", [ErrorDetail(m, "password", "weak_password") for m in exc.messages]
                ) from None
            user = User.objects.create_user(email=invitation.email, password=password, full_name=full_name.strip())
            audit_record(actor=user, organisation=None, action="user.create", obj=user, after={"email": user.email})
        elif user.email.lower() != invitation.email:
            raise invalid(f"This invitation is for {invitation.email}; you are logged in as {user.email}.")
        membership, _ = Membership.objects.get_or_create(
            user=user, organisation=invitation.organisation, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at", "updated_at"])
        audit_record(
            actor=user,
            organisation=invitation.organisation,
            action="invitation.accept",
            obj=invitation,
            after={"email": user.email, "role": membership.role},
        )
    return membership


def invitation_revoke(*, actor: Membership, invitation_id: int) -> Invitation:
    """Withdraw a pending invitation of the actor's organisation: its e-mailed link stops working."""
    with transaction.atomic():
        invitation = (
            for_update(Invitation.objects.all()).filter(pk=invitation_id, organisation_id=actor.organisation_id).first()
        )
        if invitation is None:
            raise not_found("No such invitation.")
        verdict_require(members_manage_may(actor=actor))
        if invitation.accepted_at is not None:
            raise PactboardError(
                f"The invitation of {invitation.email} was accepted on {invitation.accepted_at:%Y-%m-%d}: "
                "remove the member instead.",
                kind="conflict",
            )
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="invitation.revoke",
            obj=invitation,
            after={"email": invitation.email, "role": invitation.role},
        )
        invitation.delete()
    return invitation


def _member_for_update(*, actor: Membership, member_id: int) -> Membership:
    """A member of the actor's own organisation, locked; another organisation's is not found (a 404)."""
    member = (
        for_update(Membership.objects.all())
        .select_related("user", "organisation")
        .filter(pk=member_id, organisation_id=actor.organisation_id)
        .first()
    )
    if member is None:
        raise not_found("No such member.")
    verdict_require(members_manage_may(actor=actor))
    return member


def _keep_an_administrator(*, member: Membership, change: str) -> None:
    """Refuse ``change`` when ``member`` is the organisation's only administrator (call inside the transaction)."""
    others = (
        for_update(Membership.objects.all())
        .filter(organisation_id=member.organisation_id, role=Role.ADMIN)
        .exclude(pk=member.pk)
    )
    if member.is_admin and not others.exists():
        raise PactboardError(
            f"{member.user.email} is the only administrator of {member.organisation}: make another member an "
            f"administrator first, then {change}.",
            kind="conflict",
        )


def membership_role_set(*, actor: Membership, member_id: int, role: str) -> Membership:
    """Change the role of a member of the actor's organisation; an organisation always keeps an administrator."""
    with transaction.atomic():
        # Another organisation's member is a 404 whatever the role sent.
        member = _member_for_update(actor=actor, member_id=member_id)
        if role not in Role.values:
            raise invalid(
                f"Unknown role {role!r}: use one of {', '.join(Role.values)}.", location="role", code="invalid_choice"
            )
        if member.role == role:
            return member
        if role != Role.ADMIN:
            _keep_an_administrator(member=member, change=f"change this one's role to {role}")
        before = member.role
        member.role = role
        member.save(update_fields=["role", "updated_at"])
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="membership.role_set",
            obj=member,
            before={"role": before},
            after={"role": role, "user": member.user.email},
        )
    return member


def _sessions_end(*, member: Membership) -> int:
    """End the member's log-in sessions that act for this organisation (all of them if it was their only one)."""
    only_one = not Membership.objects.filter(user_id=member.user_id).exclude(pk=member.pk).exists()
    ended = 0
    # Sessions are stored signed and encoded: each live one is read to find its user (a table of live sessions).
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        data = session.get_decoded()
        if str(data.get(AUTH_USER_SESSION_KEY)) != str(member.user_id):
            continue
        if only_one or data.get(SESSION_KEY) in (member.pk, None):
            session.delete()
            ended += 1
    return ended


def membership_remove(*, actor: Membership, member_id: int) -> Membership:
    """Remove a member from the actor's organisation: their tokens are revoked and their sessions ended.

    Refused while they are its only administrator, or still own open actions (each is named with where
    to reassign or close it); actions they owned that are closed pass to ``actor``, so the record keeps an owner.
    """
    with transaction.atomic():
        member = _member_for_update(actor=actor, member_id=member_id)
        _keep_an_administrator(member=member, change="remove this one")
        blockers = ports.membership_removal_blockers()(membership=member)
        if blockers:
            n = len(blockers)
            raise PactboardError(
                f"{member.user.email} still owns {n} open action{'s' if n != 1 else ''}: reassign each to another "
                "member of its engagement first (Reassign on the action's page, or POST …/actions/A/reassign "
                "under /api/engagements/E, with the E and A each detail names) or mark it done or cancelled, "
                "then remove the member.",
                blockers,
                kind="conflict",
            )
        ports.membership_removal_handover()(membership=member, actor=actor)
        for token in for_update(ApiToken.objects.all()).filter(membership=member, revoked_at__isnull=True):
            _revoke(token, actor=actor.user, organisation=actor.organisation, reason="removed from the organisation")
        _sessions_end(member=member)
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="membership.remove",
            obj=member,
            before={"user": member.user.email, "role": member.role},
        )
        try:
            member.delete()
        except ProtectedError as exc:
            # A room above that keeps a protected reference without answering the ports: still a clear refusal.
            held = sorted({f"{o._meta.verbose_name} {o.pk}" for o in exc.protected_objects})
            raise PactboardError(
                f"{member.user.email} cannot be removed while other records still refer to them: "
                f"{', '.join(held[:10])}{' …' if len(held) > 10 else ''}. Close or reassign those first.",
                kind="conflict",
            ) from None
    return member


#: How long a token works unless its creator chooses otherwise, and the longest they may choose.
API_TOKEN_DEFAULT_DAYS = 90
API_TOKEN_MAX_DAYS = 365


def api_token_create(
    *,
    membership: Membership,
    name: str,
    scope: str = ApiToken.Scope.WRITE,
    expires_in_days: int = API_TOKEN_DEFAULT_DAYS,
) -> tuple[ApiToken, str]:
    """Create an API token acting as ``membership``; the raw token is shown once.

    ``scope`` is read (GET only) or write; the page offers read first. It expires after
    ``expires_in_days`` (1 to 365).
    """
    errors: list[ErrorDetail] = []
    if not name.strip():
        errors.append(ErrorDetail("Name the token, e.g. after the system that will use it.", "name", "required"))
    if scope not in ApiToken.Scope.values:
        errors.append(ErrorDetail("The scope must be read or write.", "scope", "invalid_choice"))
    if not 1 <= expires_in_days <= API_TOKEN_MAX_DAYS:
        errors.append(
            ErrorDetail(
                f"A token works for between 1 and {API_TOKEN_MAX_DAYS} days; choose one.",
                "expires_in_days",
                "out_of_range",
            )
        )
    if errors:
        raise PactboardError("The token was not created.", errors)
    raw = "pb_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            membership=membership,
            name=name.strip(),
            prefix=raw[:10],
            token_hash=_token_hash(raw),
            scope=scope,
            expires_at=timezone.now() + timedelta(days=expires_in_days),
        )
        audit_record(
            actor=membership.user,
            organisation=membership.organisation,
            action="api_token.create",
            obj=token,
            after={
                "name": token.name,
                "prefix": token.prefix,
                "scope": token.scope,
                "expires_at": token.expires_at.isoformat(),
            },
        )
    return token, raw


def _revoke(token: ApiToken, *, actor: User, organisation: Organisation, reason: str | None = None) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at", "updated_at"])
    after: dict[str, str] = {"name": token.name, "prefix": token.prefix}
    if reason:
        after["reason"] = reason
    audit_record(actor=actor, organisation=organisation, action="api_token.revoke", obj=token, after=after)


def api_token_revoke(*, actor: Membership, token_id: int) -> ApiToken:
    """Revoke one of the actor's own API tokens, or, for an administrator, any of the organisation's.

    From then on it authenticates nothing. Twice is no error.
    """
    visible = for_update(ApiToken.objects.all())
    if actor.is_admin:
        visible = visible.filter(membership__organisation_id=actor.organisation_id)
    else:
        visible = visible.filter(membership=actor)
    with transaction.atomic():
        token = visible.filter(pk=token_id).first()
        if token is None:
            # Someone else's token looks the same as no token at all.
            raise not_found("No such API token.")
        if token.revoked_at is None:
            _revoke(token, actor=actor.user, organisation=actor.organisation)
    return token


def api_tokens_revoke_of_user(*, user: User, reason: str) -> int:
    """Revoke every live token of ``user`` in every organisation (their password changed); how many."""
    with transaction.atomic():
        tokens = list(
            for_update(ApiToken.objects.all())
            .select_related("membership__organisation")
            .filter(membership__user=user, revoked_at__isnull=True)
        )
        for token in tokens:
            _revoke(token, actor=user, organisation=token.membership.organisation, reason=reason)
    return len(tokens)


def api_token_authenticate(*, raw: str) -> ApiToken | None:
    """The live token behind a raw bearer token (not revoked, not expired, its user active), or None."""
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("membership__user", "membership__organisation")
        .filter(token_hash=_token_hash(raw), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if token is None or not token.membership.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
