"""A physiotherapist screens, consents and enrols a patient in the browser, and the patient
completes the baseline questionnaires on the same tablet (headless Chromium)."""

from datetime import date

import pytest

from enrolment.models import Participant, ScreeningRecord
from enrolment.national_id import age_on
from questionnaires.models import Response

from .conftest import submit_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Answer every unanswered radio group with its first option and every empty number box
# with its minimum: a patient who ticks the first box everywhere.
FILL_PAGE = """() => {
  const names = new Set([...document.querySelectorAll('input[type=radio]')].map(e => e.name));
  for (const name of names) {
    const group = [...document.querySelectorAll(`input[type=radio][name="${name}"]`)];
    if (!group.some(e => e.checked)) group[0].click();
  }
  for (const box of document.querySelectorAll('input[type=number]')) {
    if (!box.value) box.value = box.min || '0';
  }
}"""


def test_screen_consent_enrol_and_baseline_on_one_tablet(
    browser, live_server, physio_west, clinic_west, tmp_path
):
    page = browser.new_page(viewport={"width": 800, "height": 1100})
    page.goto(f"{live_server.url}/trials/betterback/screen/")
    page.fill("#id_username", "physio_west")
    page.fill("#id_password", "correct horse battery staple")
    submit_login(page, "physio_west")
    page.wait_for_selector("#screening-form")
    # The age agrees with the date of birth below (the enrol form checks it).
    page.fill("#id_age", str(age_on(date(1980, 2, 2), date.today())))
    for name in ("swedish", "lbp-episode"):
        page.check(f'input[name="crit_{name}"][value="yes"]')
    for name in (
        "serious-pathology",
        "malignancy-5y",
        "spinal-surgery-2y",
        "pregnancy",
        "multimodal",
        "psychiatric",
    ):
        page.check(f'input[name="crit_{name}"][value="no"]')
    page.click("#screening-form button[type=submit]")

    page.wait_for_selector("#enrol-form")
    page.check("#id_consent_seen")
    page.fill("#id_full_name", "Greta Gustafsson")
    page.fill("#id_national_id", "19800202-1239")
    page.fill("#id_date_of_birth", "1980-02-02")
    page.fill("#id_email", "greta@example.com")
    page.select_option("#id_preferred_language", "en")
    page.click('#enrol-form button[name="enrol"]')
    # Today is after BetterBack's recruitment period: a warning, a reason, a confirmation;
    # what was typed is still there.
    page.wait_for_selector("#enrol-warnings >> text=recruitment ended on 2018-01-31")
    assert page.input_value("#id_full_name") == "Greta Gustafsson"
    page.fill("#id_late_reason", "Ethics committee approved an extension")
    page.check("#id_confirm_warnings")
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    # An impatient second press, once the first request is on its way, sends nothing
    # (the server would refuse a second enrolment anyway).
    page.evaluate(
        """() => {
          const button = document.querySelector('#enrol-form button[name="enrol"]');
          button.click();
          setTimeout(() => button.click(), 30);
        }"""
    )

    page.wait_for_selector("text=Open visit on this device")
    assert len(posts) == 1, posts
    participant = Participant.objects.get()
    assert participant.late_enrolment_reason == "Ethics committee approved an extension"
    assert ScreeningRecord.objects.get().participant == participant
    page.click(f'a[href="/questionnaires/visit/{participant.study_id}/baseline/"]')
    for _ in range(10):
        page.wait_for_selector("main")
        if page.query_selector('button[value="next"]') is None:
            break
        page.evaluate(FILL_PAGE)
        page.click('button[value="next"]')
        page.wait_for_load_state()
    page.wait_for_selector("text=Thank you")
    page.screenshot(path=str(tmp_path / "baseline_done.png"), full_page=True)
    # The patient-facing pages never showed the allocation.
    assert "intervention" not in page.content().lower()

    done = Response.objects.filter(
        participant=participant, timepoint__code="baseline", completed_at__isnull=False
    )
    assert sorted(done.values_list("instrument", flat=True)) == sorted(
        participant.trial.timepoints.get(code="baseline").instruments
    )
    sbst = done.get(instrument="sbst")
    assert sbst.scores["risk_group"] in (1, 2, 3)
    page.close()
