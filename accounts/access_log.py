"""Writes the access log (:class:`accounts.models.AccessEvent`).

Logins and failures come from Django's auth signals, lockouts from django-axes' signal,
exports from the analysis app's export log (connected by the model's label, so that
nothing below imports this app); downloads from :class:`accounts.middleware.StaffPagesMiddleware`.
"""

from __future__ import annotations

from axes.helpers import get_client_ip_address
from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import AccessEvent


def record(kind: str, request=None, *, user=None, username: str = "", actor=None,
           detail: str = "") -> AccessEvent:
    """One row of the access log; the address and path come from ``request``."""
    if user is not None and not username:
        username = user.get_username()
    ip, path = None, ""
    if request is not None:
        ip = get_client_ip_address(request) or None
        path = request.path[:500]
    return AccessEvent.objects.create(
        kind=kind,
        user=user if user is not None and user.pk else None,
        username=username[:150],
        actor=actor,
        ip_address=ip,
        path=path,
        detail=detail[:500],
    )


@receiver(user_logged_in, dispatch_uid="accounts_login")
def _logged_in(sender, request, user, **kwargs):
    record(AccessEvent.LOGIN, request, user=user)


@receiver(user_logged_out, dispatch_uid="accounts_logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record(AccessEvent.LOGOUT, request, user=user)


@receiver(user_login_failed, dispatch_uid="accounts_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get(get_user_model().USERNAME_FIELD) or "")
    user = get_user_model().objects.filter(username=username).first() if username else None
    locked = getattr(request, "axes_locked_out", False)
    record(
        AccessEvent.LOGIN_FAILED,
        request,
        user=user,
        username=username,
        detail="refused: locked out" if locked else "",
    )


@receiver(user_locked_out, dispatch_uid="accounts_locked_out")
def _locked_out(sender, request, username, ip_address, **kwargs):
    user = get_user_model().objects.filter(username=username).first() if username else None
    record(AccessEvent.LOCKED_OUT, request, user=user, username=username or "",
           detail=f"address {ip_address}")


@receiver(post_save, sender="analysis.ExportLog", dispatch_uid="accounts_export")
def _exported(sender, instance, created, **kwargs):
    if created:
        record(
            AccessEvent.EXPORT,
            user=instance.user,
            username=instance.user_label,
            detail=f"{instance.trial.code} {instance.shape}/{instance.level} "
            f"{instance.format}{' blinded' if instance.blinded else ''}: {instance.file_name}",
        )
