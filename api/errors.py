"""Every refusal as ``{"code": "...", "detail": "..."}`` (plus ``errors`` item by item for
invalid input): the code is stable for scripts, the detail says why for people."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from enrolment.guards import WriteRefused
from enrolment.models import ReasonRequired


class ApiError(exceptions.APIException):
    """A refusal with its own status and code, raised by the views."""

    def __init__(self, status_code: int, code: str, detail: str, errors=None):
        super().__init__(detail, code)
        self.status_code = status_code
        self.errors = errors


def _messages(exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    return None


def _detail(exc: DjangoValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


def body(code: str, detail: str, errors=None) -> dict:
    out = {"code": code, "detail": detail}
    if errors:
        out["errors"] = errors
    return out


def handler(exc, context):
    if isinstance(exc, WriteRefused):
        code = exc.code or "locked"
        return Response(body(code, _detail(exc)), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ReasonRequired):
        return Response(body("reason_required", _detail(exc)), status=400)
    if isinstance(exc, DjangoValidationError):
        return Response(body("invalid", _detail(exc), _messages(exc)), status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.", code="not_found")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's own 500 handling (logged), not a made-up body
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    if isinstance(exc, exceptions.ValidationError):
        errors = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        response.data = body("invalid", "The request is not valid; see errors.", errors)
        return response
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    code = codes if isinstance(codes, str) else "error"
    text = str(detail)
    if isinstance(exc, exceptions.Throttled):
        code = "throttled"
    response.data = body(code, text, getattr(exc, "errors", None))
    return response
