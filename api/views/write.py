"""Write endpoints: a response for a participant and timepoint, entered by a role that
may enter data, through :func:`questionnaires.services.saving.save_answers` (validated and
scored as the site does; the write-path guards refuse locked data: 409 ``locked``).
Allocation and personal details are never written through the API."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from analysis.exports import weekly_timepoints
from enrolment import permissions as roles
from enrolment.models import Timepoint
from questionnaires.instruments import for_trial
from questionnaires.models import Response as QResponse
from questionnaires.services.answers import clean_answers
from questionnaires.services.saving import save_answers

from .. import data
from ..errors import ApiError
from ..serializers import ErrorOut, ResponseIn, ResponseOut
from .base import TrialView
from .read import participant_or_404

# Timepoints a staff member may enter for a participant (never a physiotherapist's own).
ENTERED_ABOUT_PARTICIPANT = (Timepoint.PATIENT, Timepoint.CLINICIAN)


def _timepoint(trial, code: str, instrument: str) -> Timepoint:
    tp = trial.timepoints.filter(code=code, respondent__in=ENTERED_ABOUT_PARTICIPANT).first()
    if tp is None:
        raise ApiError(400, "unknown_timepoint",
                       f"{trial.code} has no participant timepoint {code!r}.")
    if instrument not in tp.instruments:
        raise ApiError(400, "unknown_instrument",
                       f"Timepoint {code} has no instrument {instrument!r}; it has "
                       f"{', '.join(tp.instruments)}.")
    if tp.id in weekly_timepoints(trial):
        raise ApiError(400, "weekly_instrument",
                       "Weekly SMS answers come from the participant's phone, not the API.")
    return tp


class SubmitResponse(TrialView):
    @extend_schema(
        operation_id="submit_response",
        summary="Enter (or correct, with a reason) a participant's response at a timepoint",
        request=ResponseIn,
        responses={201: OpenApiResponse(ResponseOut, description="created"),
                   200: OpenApiResponse(ResponseOut, description="changed or unchanged"),
                   400: OpenApiResponse(ErrorOut, description="invalid, reason_required, "
                                        "unknown_timepoint, unknown_instrument"),
                   403: OpenApiResponse(ErrorOut, description="read_only_token, "
                                        "role_may_not_write"),
                   409: OpenApiResponse(ErrorOut, description="locked")},
    )
    def post(self, request, code, study_id):
        p = participant_or_404(self.viewer, study_id)
        if not roles.can_edit(request.user, p):
            raise exceptions.PermissionDenied("Your role may not enter data.",
                                              code="role_may_not_write")
        given = ResponseIn(data=request.data)
        given.is_valid(raise_exception=True)
        body = given.validated_data
        tp = _timepoint(self.trial, body["timepoint"], body["instrument"])
        existing = QResponse.objects.filter(participant=p, timepoint=tp,
                                            instrument=body["instrument"],
                                            entry=QResponse.FINAL).first()
        instrument = (existing.definition() if existing
                      else for_trial(self.trial, body["instrument"]))
        reason = body["reason"].strip()
        if (existing is not None and existing.is_complete and not reason
                and clean_answers(existing.answers)
                != clean_answers(body["answers"])):
            raise ApiError(400, "reason_required",
                           "This response is completed: give a reason to change it.")
        saved = save_answers(
            instrument=instrument,
            timepoint=tp,
            answers=body["answers"],
            complete=body["complete"],
            mode=body["mode"],
            user=request.user,
            participant=p,
            reason=reason,
            response=None,
        )
        row = data.responses(self.viewer).filter(pk=saved.pk).values(*data.RESPONSE_FIELDS).get()
        return Response(data.response(row, self.viewer),
                        status=status.HTTP_200_OK if existing else status.HTTP_201_CREATED)
