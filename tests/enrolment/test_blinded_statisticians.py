"""A blinded trial (the default; `blinded = false` in the protocol file's [trial] opens
it) shows a statistician no participant's condition and no free-text withdrawal or
decline reason in the browser, and offers blinded exports by default (issue 13, 7)."""

import re
from datetime import date

import pytest

from enrolment.actions.status import withdraw_participant
from enrolment.models import ScreeningRecord
from tests.conftest import use_betterback_built_once

from ..factories import enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

WITHDRAWAL = "Moved abroad after a divorce"
DECLINE = "Afraid of the exercises, husband disapproves"


@pytest.fixture
def seen(betterback, clinic_west, coordinator):
    patient = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    withdraw_participant(patient, date(2017, 6, 1), WITHDRAWAL)
    ScreeningRecord.objects.create(
        trial=betterback,
        clinic=clinic_west,
        screened_on=date(2017, 5, 3),
        screened_by=coordinator,
        outcome=ScreeningRecord.DECLINED,
        decline_reason=DECLINE,
    )
    return patient


def pages(client, patient) -> dict[str, str]:
    return {
        url: client.get(url).content.decode()
        for url in (
            f"/participants/{patient.study_id}/",
            "/trials/betterback/participants/",
            "/trials/betterback/screening-log/",
        )
    }


def test_a_statistician_of_a_blinded_trial_sees_no_condition_and_no_reasons(
    client, statistician, seen
):
    label = seen.trial.arms.get(code=seen.condition).label
    client.force_login(statistician)
    for url, html in pages(client, seen).items():
        assert WITHDRAWAL not in html and DECLINE not in html, url
        assert f"condition-{seen.condition}" not in html and label not in html, url
    # Nor by filtering the list on a condition.
    listed = client.get(f"/trials/betterback/participants/?condition={seen.condition}")
    other = client.get("/trials/betterback/participants/?condition=nonsense")
    assert seen.study_id in listed.content.decode() and seen.study_id in other.content.decode()
    assert blinded_export_checked(client)


def blinded_export_checked(client) -> bool:
    home = client.get("/analysis/betterback/").content.decode()
    [tag] = re.findall(r'<input[^>]*name="blinded"[^>]*>', home)
    return re.search(r"\schecked[\s>]", tag) is not None


def test_an_open_trial_and_other_roles_see_both(client, statistician, coordinator, seen):
    client.force_login(coordinator)
    html = "".join(pages(client, seen).values())
    assert WITHDRAWAL in html and DECLINE in html and f"condition-{seen.condition}" in html
    assert not blinded_export_checked(client)
    seen.trial.blinded = False
    seen.trial.save()
    client.force_login(statistician)
    html = "".join(pages(client, seen).values())
    assert WITHDRAWAL in html and DECLINE in html and f"condition-{seen.condition}" in html


def test_the_protocol_file_sets_blinding(tmp_path, db):
    from enrolment.protocol.writing import load_protocol

    from ..conftest import PROTOCOLS

    text = (PROTOCOLS / "safe.toml").read_text()
    assert load_protocol(PROTOCOLS / "safe.toml")[0].blinded  # the default
    opened = tmp_path / "safe.toml"
    opened.write_text(text.replace("[trial]\n", "[trial]\nblinded = false\n", 1))
    assert not load_protocol(opened)[0].blinded
