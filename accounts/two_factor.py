"""Two-factor authentication with django-otp: a TOTP authenticator and recovery codes.

Required for anyone who holds a role that sees personal details
(:data:`trialsite.roles.PERSONAL_DETAILS`) in a trial whose ``two_factor_required`` is on
(the protocol file's setting, on by default); optional for everyone else, but whoever has
set it up is asked for a code at every login.
"""

from __future__ import annotations

import segno
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from enrolment import permissions as roles

RECOVERY_CODES = 10
AUTHENTICATOR = "authenticator"
RECOVERY = "recovery codes"


def required(user) -> bool:
    """Whether ``user`` must use a second factor (whatever they have set up)."""
    return any(
        roles.has_any(user, trial, roles.personal_details_roles(trial))
        for trial in roles.my_trials(user)
        if trial.two_factor_required
    )


def has_device(user) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def needed(user) -> bool:
    """A code is asked of whoever must use one and of whoever chose to."""
    return has_device(user) or required(user)


def pending_authenticator(user) -> TOTPDevice:
    """The authenticator being set up: kept until confirmed, so a reload shows the same
    QR code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=False)


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG for an authenticator app to scan."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, omitsize=False)


def secret_for_typing(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for an app that cannot scan."""
    from base64 import b32encode

    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def confirm_authenticator(device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm ``device`` with a code from the app; returns fresh recovery codes, or None
    if the code was wrong. Any other authenticator of the user is replaced."""
    if not device.verify_token(code.strip().replace(" ", "")):
        return None
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return new_recovery_codes(device.user)


def new_recovery_codes(user) -> list[str]:
    """Ten single-use codes; earlier ones stop working."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def verify(user, code: str):
    """The device that accepts ``code`` (authenticator or a recovery code), or None.
    django-otp throttles each device after a wrong code (the wait doubles each time)."""
    code = code.strip().replace(" ", "").lower()
    if not code:
        return None
    for device in devices_for_user(user, confirmed=True):
        if device.verify_token(code):
            return device
    return None


def reset(user) -> None:
    """Forget the user's authenticator and recovery codes (a lost phone); if their
    trial requires two factors they set it up again at the next login."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
