"""The gateway's webhooks: inbound replies and delivery status (Twilio's form posts).

Both refuse a request without a valid ``X-Twilio-Signature`` (403, nothing stored),
limit unsigned requests per client address (429), and answer at once: the reply is stored
raw first and interpreted second, so a failure to interpret loses nothing (the
dispatcher tries stored replies again).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_ratelimit.core import is_ratelimited

from ..models import SmsStatusCallback
from . import tracking
from .twilio import EMPTY_TWIML, parse_inbound, parse_status, validate_signature

logger = logging.getLogger(__name__)


def _rate(group, request) -> str:
    return settings.SMS_WEBHOOK_RATE


def _signed(request) -> bool:
    base = settings.SMS_CALLBACK_BASE_URL
    url = f"{base.rstrip('/')}{request.get_full_path()}" if base else request.build_absolute_uri()
    return validate_signature(
        settings.TWILIO_AUTH_TOKEN, url, request.POST, request.headers.get("X-Twilio-Signature")
    )


def _refused(request) -> HttpResponse | None:
    """None for a request the gateway signed; otherwise 403, or 429 once one address
    has sent ``SMS_WEBHOOK_RATE`` unsigned requests. Only unsigned requests count and
    are limited: a forger cannot use up the gateway's allowance, and a signed reply is
    never refused (Twilio does not send a refused reply again)."""
    if _signed(request):
        return None
    if is_ratelimited(request, group="sms-webhook", key="ip", rate=_rate, increment=True):
        return HttpResponse("Too many requests", status=429, content_type="text/plain")
    return HttpResponseForbidden("invalid signature")


@csrf_exempt
@require_POST
def inbound(request):
    if refused := _refused(request):
        return refused
    try:
        sms = parse_inbound(request.POST)
    except ValueError as exc:
        return HttpResponseBadRequest(str(exc))
    # Committed on its own, before interpretation: nothing received is lost.
    with transaction.atomic():
        stored, created = tracking.store(sms.provider_id, sms.sender, sms.body)
    if created:
        try:
            tracking.receive(stored.pk)
        except Exception:  # noqa: BLE001 - kept pending, interpreted again by the dispatcher
            logger.exception("interpreting SMS reply %s failed; kept for a retry", stored.pk)
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def status(request):
    if refused := _refused(request):
        return refused
    try:
        update = parse_status(request.POST)
    except ValueError as exc:
        return HttpResponseBadRequest(str(exc))
    # Kept first: the batch that sent the message may not have recorded its id yet.
    report = SmsStatusCallback.objects.create(
        provider_id=update.provider_id,
        status=update.status[:20],
        error_code=update.error_code,
        received_at=timezone.now(),
    )
    tracking.apply_status_reports([report], timezone.now())
    return HttpResponse(status=204)
