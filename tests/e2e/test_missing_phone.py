"""A patient on a 390-px phone chooses "prefer not to answer" on an item the instrument lets
them skip (ODI's sex life) and completes the questionnaire: the answers are saved with the
reason code instead of a value, the score uses the published one-missing rule, and the
contact closes. The page passes the phone checks of test_patient_pages_phone."""

from datetime import date

import pytest
from django.urls import reverse

from followup.dispatch import dispatch_due
from followup.models import Contact
from followup.schedule import add_months
from followup.tokens import token_for
from questionnaires import missing
from questionnaires.instruments import get
from questionnaires.models import Response
from questionnaires.services.saving import save_answers

from ..factories import enrol
from ..questionnaires.engine_helpers import valid_answers
from .test_patient_pages_phone import PHONE, check_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_patient_prefers_not_to_answer_on_a_phone_and_finishes(
    browser, live_server, clinic_west, settings
):
    settings.FOLLOWUP_BASE_URL = live_server.url
    patient = enrol(clinic_west, enrolled_on=add_months(date.today(), -3), preferred_language="sv")
    contact = patient.contacts.get(timepoint__code="3m")
    dispatch_due(contact.due_at, 10)
    tp = contact.timepoint
    # Everything but the ODI answered already: the ODI is the last page left.
    for code in tp.instruments:
        if code != "odi":
            save_answers(
                instrument=get(code),
                timepoint=tp,
                answers=valid_answers(get(code), skip=_free_text(code)),
                complete=True,
                mode=Response.PATIENT_ONLINE,
                participant=patient,
            )
    context = browser.new_context(viewport=PHONE, bypass_csp=True)  # axe is injected
    page = context.new_page()
    page.goto(live_server.url + reverse("survey_start", args=[token_for(contact)]))
    page.wait_for_selector("input[name=q8__reason]")
    assert page.locator("label[for=id_q8__reason]").inner_text().strip() == "Vill inte svara"
    # Offered only where the instrument allows skipping.
    assert page.locator("input[name$=__reason]").count() == 1
    problems = check_page(page, "ODI page with prefer not to answer")
    assert not problems, "\n".join(problems)

    values = {f"q{n}": n % 6 for n in range(1, 11) if n != 8}
    for item, value in values.items():
        page.locator(f"label[for=id_{item}_{value}]").click()
    page.locator("label[for=id_q8__reason]").click()  # the whole row is the target
    assert page.locator("input[name=q8__reason]").is_checked()
    done = reverse("survey_done", args=[token_for(contact)])
    for _ in tp.instruments:  # on through the pages answered before, to the end
        with page.expect_navigation():
            page.locator("button[value=next]").click()
        if page.url.endswith(done):
            break
    assert page.url.endswith(done), page.locator("main").inner_text()
    context.close()

    response = Response.objects.get(participant=patient, timepoint=tp, instrument="odi")
    assert response.is_complete and response.mode == Response.PATIENT_ONLINE
    assert response.missing == {"q8": missing.REFUSED}
    assert response.answers == values
    # Fairbank & Pynsent: one section unanswered -> sum / 45.
    assert response.scores["odi"] == pytest.approx(sum(values.values()) / 45 * 100)
    contact.refresh_from_db()
    assert contact.status == Contact.COMPLETED


def _free_text(code: str) -> tuple[str, ...]:
    return tuple(i.id for i in get(code).items if i.kind == "text")


def test_prefer_not_clears_an_answer_already_chosen_and_an_answer_clears_it(
    browser, live_server, clinic_west, settings
):
    """A radio once chosen cannot be unchosen: ticking "prefer not to answer" after choosing
    must clear the choice, or the patient is stuck with "an answer or a reason, not both"."""
    settings.FOLLOWUP_BASE_URL = live_server.url
    patient = enrol(clinic_west, enrolled_on=add_months(date.today(), -3), preferred_language="sv")
    contact = patient.contacts.get(timepoint__code="3m")
    dispatch_due(contact.due_at, 10)
    tp = contact.timepoint
    for code in tp.instruments:
        if code != "odi":
            save_answers(
                instrument=get(code), timepoint=tp,
                answers=valid_answers(get(code), skip=_free_text(code)),
                complete=True, mode=Response.PATIENT_ONLINE, participant=patient,
            )
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(live_server.url + reverse("survey_start", args=[token_for(contact)]))
    page.wait_for_selector("input[name=q8__reason]")
    values = {f"q{n}": n % 6 for n in range(1, 11)}
    for item, value in values.items():
        page.locator(f"label[for=id_{item}_{value}]").click()
    page.locator("label[for=id_q8__reason]").click()
    assert page.locator("input[name=q8]:checked").count() == 0
    page.locator("label[for=id_q8_2]").click()
    assert not page.locator("input[name=q8__reason]").is_checked()
    page.locator("label[for=id_q8__reason]").click()
    done = reverse("survey_done", args=[token_for(contact)])
    for _ in tp.instruments:
        with page.expect_navigation():
            page.locator("button[value=next]").click()
        if page.url.endswith(done):
            break
    assert page.url.endswith(done), page.locator("main").inner_text()
    context.close()
    response = Response.objects.get(participant=patient, timepoint=tp, instrument="odi")
    assert response.missing == {"q8": missing.REFUSED}
    assert "q8" not in response.answers
