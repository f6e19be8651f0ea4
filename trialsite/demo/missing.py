"""Missing-data reasons in the demo (issue 12): a few paper forms with an item lost, a
patient who preferred not to answer an item online, and one questionnaire marked not
done, each through the write path staff and patients use, so the participant page, the
monitoring dashboard and the exports have something to show."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from enrolment.models import Trial
from followup.models import Contact
from questionnaires import missing, not_done
from questionnaires.models import Response
from questionnaires.services.saving import correct_response, save_answers

LOST_ON_PAPER = 3  # paper forms with one item lost


def _finals(trial: Trial):
    return Response.objects.filter(
        participant__trial=trial, entry=Response.FINAL, completed_at__isnull=False
    ).order_by("pk")


def _lost_on_paper(trial: Trial, data_manager) -> int:
    done = 0
    for response in _finals(trial).filter(mode=Response.STAFF_PAPER, instrument="odi"):
        item = "q5" if "q5" in response.answers else None
        if item is None:
            continue
        answers = {k: v for k, v in response.answers.items() if k != item}
        correct_response(
            response,
            answers,
            "page 2 of the paper form lost in the post: the value typed was a guess",
            data_manager,
            {**response.missing, item: missing.LOST},
        )
        done += 1
        if done == LOST_ON_PAPER:
            break
    return done


def _refused_online(trial: Trial) -> int:
    # ODI's sex-life section is the one a patient may skip with "prefer not to answer".
    response = _finals(trial).filter(mode=Response.PATIENT_ONLINE, instrument="odi").first()
    if response is None or "q8" not in response.answers:
        return 0
    save_answers(
        instrument=response.definition(),
        timepoint=response.timepoint,
        answers={k: v for k, v in response.answers.items() if k != "q8"},
        missing={"q8": missing.REFUSED},
        complete=True,
        mode=response.mode,
        participant=response.participant,
        response=response,
        reason="the patient preferred not to answer (survey link)",
    )
    return 1


def _not_done(trial: Trial, coordinator) -> int:
    contact = (
        Contact.objects.filter(
            timepoint__trial=trial, participant__isnull=False, status=Contact.MISSED
        )
        .select_related("timepoint", "participant")
        .order_by("pk")
        .first()
    )
    if contact is None:
        return 0
    tp = contact.timepoint
    answered = set(
        _finals(trial).filter(participant=contact.participant, timepoint=tp).values_list(
            "instrument", flat=True
        )
    )
    for code in tp.instruments:
        if code not in answered:
            not_done.mark_not_done(
                participant=contact.participant,
                timepoint=tp,
                instrument=code,
                code=missing.NOT_DONE,
                why="the patient phoned: too unwell to fill in the questionnaire",
                user=coordinator,
            )
            return 1
    return 0


def add_missing_reasons(trial: Trial) -> dict[str, int]:
    users = get_user_model().objects
    return {
        "paper items lost": _lost_on_paper(trial, users.get(username="datamanager")),
        "items refused online": _refused_online(trial),
        "questionnaires not done": _not_done(trial, users.get(username="coordinator")),
    }
