"""Log-in, organisation switcher, members and invitations, API tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pactboard.accounts import selectors, services, throttle
from pactboard.accounts.forms import ApiTokenForm, EmailAuthenticationForm, InvitationAcceptForm, InvitationForm
from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.accounts.middleware import SESSION_KEY
from pactboard.accounts.models import Role
from pactboard.core.errors import PactboardError
from pactboard.core.forms import form_add_domain_error
from pactboard.core.views import membership_required


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Per address and per e-mail asked for, whether or not an account uses it (that stays unsaid).
        email = str(request.POST.get("email", "")).strip().lower()
        limit = throttle.password_reset_limit()
        if not throttle.hit(scope="reset", keys={"ip": throttle.client_ip(request), "account": email}, limit=limit):
            return throttle.throttled_response(request, seconds=limit.window)
        return super().post(request, *args, **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


@require_POST
def membership_switch(request: HttpRequest) -> HttpResponse:
    """Act for another of the user's organisations from now on."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    try:
        wanted = int(request.POST.get("membership", ""))
    except ValueError:
        wanted = -1
    chosen = selectors.memberships_of_user(user=request.user).filter(pk=wanted).first()
    if chosen is None:
        messages.error(request, "You are not a member of that organisation.")
    else:
        request.session[SESSION_KEY] = chosen.pk
        messages.success(request, f"You now act for {chosen.organisation.name}.")
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    # Pages of the previous organisation's engagements would be 404 now: go to the list.
    return redirect(target or "engagements:list")


@membership_required
@require_http_methods(["GET", "POST"])
def members(request: AuthenticatedHttpRequest) -> HttpResponse:
    membership = request.membership
    form = InvitationForm(request.POST or None)
    if request.method == "POST":
        if not membership.is_admin:
            raise PermissionDenied("Only administrators invite people.")
        if form.is_valid():
            try:
                services.invitation_create(
                    actor=membership,
                    organisation=membership.organisation,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                )
            except PactboardError as exc:
                form_add_domain_error(form, exc)
            else:
                messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
                return redirect("accounts:members")
    return render(
        request,
        "accounts/members.html",
        {
            "form": form,
            "members": selectors.organisation_members(membership=membership),
            "invitations": selectors.organisation_pending_invitations(membership=membership)
            if membership.is_admin
            else [],
            "roles": Role.choices,
        },
        status=422 if request.method == "POST" else 200,
    )


def _conflict_message(exc: PactboardError) -> str:
    """A refusal with its details (the open actions that block a removal) in one flash message."""
    if not exc.details:
        return exc.message
    # Each with its location ("engagement E, action A"): the message says where to act on it.
    return (
        exc.message
        + " "
        + "; ".join(f"{d.message} [{d.location}]" if d.location else d.message for d in exc.details)
        + "."
    )


def _members_action[T](
    request: AuthenticatedHttpRequest, act: Callable[[], T], done: Callable[[T], str]
) -> HttpResponse:
    """Run an administrator's action of the members page and say its outcome in a flash message.

    A refusal (with its details) is flashed; "not found" and "forbidden" are raised (404/403), as
    anywhere else. Either way the answer is the members page.
    """
    try:
        result = act()
    except PactboardError as exc:
        if exc.kind in ("not_found", "forbidden"):
            raise
        messages.error(request, _conflict_message(exc))
    else:
        messages.success(request, done(result))
    return redirect("accounts:members")


@membership_required
@require_POST
def member_role(request: AuthenticatedHttpRequest, member_id: int) -> HttpResponse:
    """Change a member's role (administrators); the organisation's last administrator keeps the role."""
    return _members_action(
        request,
        lambda: services.membership_role_set(
            actor=request.membership, member_id=member_id, role=str(request.POST.get("role", ""))
        ),
        lambda member: f"{member.user.email} is now {member.get_role_display().lower()}.",
    )


@membership_required
@require_POST
def member_remove(request: AuthenticatedHttpRequest, member_id: int) -> HttpResponse:
    """Remove a member (administrators): tokens revoked, sessions ended; refused while they own open actions."""
    return _members_action(
        request,
        lambda: services.membership_remove(actor=request.membership, member_id=member_id),
        lambda member: f"{member.user.email} is no longer a member; their API tokens are revoked.",
    )


@membership_required
@require_POST
def invitation_revoke(request: AuthenticatedHttpRequest, invitation_id: int) -> HttpResponse:
    """Revoke a pending invitation (administrators): its link stops working."""
    return _members_action(
        request,
        lambda: services.invitation_revoke(actor=request.membership, invitation_id=invitation_id),
        lambda invitation: f"The invitation of {invitation.email} is revoked: its link no longer works.",
    )


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_get_usable(token=token)
    except PactboardError as exc:
        return render(request, "accounts/invitation_invalid.html", {"message": exc.message}, status=404)
    user = request.user if request.user.is_authenticated else None
    if request.method == "POST":
        limit = throttle.invitation_limit()
        keys = {"ip": throttle.client_ip(request), "account": str(invitation.pk)}
        if not throttle.hit(scope="invitation", keys=keys, limit=limit):
            return throttle.throttled_response(request, seconds=limit.window)
    form = InvitationAcceptForm(request.POST or None) if user is None else None
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            membership = services.invitation_accept(
                token=token,
                user=user,
                full_name=form.cleaned_data["full_name"] if form else "",
                password=form.cleaned_data["password"] if form else None,
            )
        except PactboardError as exc:
            if form is None:
                messages.error(request, exc.message)
                return redirect("engagements:list")
            form_add_domain_error(form, exc)
        else:
            if user is None:
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[SESSION_KEY] = membership.pk
            messages.success(request, f"Welcome to {membership.organisation.name}.")
            return redirect("engagements:list")
    return render(
        request,
        "accounts/invitation_accept.html",
        {"invitation": invitation, "form": form},
        status=422 if request.method == "POST" else 200,
    )


@membership_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: AuthenticatedHttpRequest) -> HttpResponse:
    membership = request.membership
    form = ApiTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            _, new_token = services.api_token_create(
                membership=membership,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except PactboardError as exc:
            form_add_domain_error(form, exc)
        else:
            form = ApiTokenForm()
    tokens = selectors.api_tokens_of_membership(membership=membership)
    return render(request, "accounts/api_tokens.html", {"form": form, "tokens": tokens, "new_token": new_token})


@membership_required
@require_GET
def organisation_tokens(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every live API token of the organisation, with whose it is: administrators revoke any of them here."""
    if not request.membership.is_admin:
        raise PermissionDenied("Only administrators see the organisation's tokens.")
    tokens = selectors.api_tokens_of_organisation(membership=request.membership)
    return render(request, "accounts/organisation_tokens.html", {"tokens": tokens})


@membership_required
@require_POST
def api_token_revoke(request: AuthenticatedHttpRequest, token_id: int) -> HttpResponse:
    """Revoke one of the user's tokens (or, for an administrator, the organisation's); another's is a 404."""
    token = services.api_token_revoke(actor=request.membership, token_id=token_id)
    messages.success(request, f"Token {token.name} ({token.prefix}…) is revoked: it no longer works.")
    if token.membership_id != request.membership.pk:
        return redirect("accounts:organisation_tokens")
    return redirect("accounts:api_tokens")
