"""The protocol-deviation log: types from the protocol file, one audited write path,
who may record, what the participant page shows to whom."""

from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import escape

from enrolment.actions.errors import EnrolmentError
from enrolment.audit import participant_history
from enrolment.deviations import correct_deviation, record_deviation
from enrolment.models import AuditedModel, Deviation, DeviationType, ReasonRequired
from enrolment.protocol.reading import read_protocol
from enrolment.protocol.sections import ProtocolError
from enrolment.protocol.writing import load_protocol
from tests.conftest import use_betterback_built_once

from ..conftest import PROTOCOLS
from ..factories import enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

TODAY = date(2017, 6, 30)
SECRET = "Anna Svensson's neighbour treated her at the east clinic"


@pytest.fixture
def participant(clinic_west):
    return enrol(clinic_west, enrolled_on=date(2017, 5, 2))


def dtype(trial, code):
    return DeviationType.objects.get(trial=trial, code=code)


def record(participant, user, code, excludes=None, on=date(2017, 6, 1), text=SECRET):
    return record_deviation(
        participant,
        user=user,
        type=dtype(participant.trial, code),
        occurred_on=on,
        description=text,
        excludes=excludes,
        today=TODAY,
    )


@pytest.mark.parametrize("path", sorted(PROTOCOLS.glob("*.toml")), ids=lambda p: p.stem)
def test_every_seed_protocol_declares_deviation_types_of_each_rule(path):
    spec = read_protocol(path)
    assert {d.per_protocol for d in spec.deviation_types} == {"excluded", "kept", "judged"}
    assert "ineligible" in {d.code for d in spec.deviation_types}


def test_types_are_loaded_in_order_and_a_used_one_cannot_vanish(
    betterback, participant, coordinator, tmp_path
):
    codes = list(DeviationType.objects.filter(trial=betterback).values_list("code", flat=True))
    assert codes[:2] == ["ineligible", "other-condition"] and codes[-1] == "other"
    record(participant, coordinator, "ineligible")
    text = (PROTOCOLS / "betterback.toml").read_text()
    block = '[[deviation_types]]\ncode = "ineligible"'
    assert block in text
    path = Path(tmp_path / "betterback.toml")
    path.write_text(text.replace(block, '[[deviation_types]]\ncode = "not-eligible"', 1))
    with pytest.raises(ProtocolError, match="deviation_types: 'ineligible' is missing"):
        load_protocol(path)


def test_a_type_needs_a_known_per_protocol_rule(tmp_path):
    text = (PROTOCOLS / "selfback.toml").read_text()
    path = tmp_path / "selfback.toml"
    path.write_text(text.replace('per_protocol = "judged"', 'per_protocol = "maybe"', 1))
    with pytest.raises(ProtocolError, match=r"deviation_types\[\d\]\.per_protocol"):
        read_protocol(path)


def test_the_protocol_decides_the_flag_unless_it_leaves_it_to_the_recorder(
    participant, coordinator
):
    assert record(participant, coordinator, "ineligible").excludes_per_protocol is True
    assert record(participant, coordinator, "consent").excludes_per_protocol is False
    assert record(participant, coordinator, "other", excludes=True).excludes_per_protocol
    with pytest.raises(EnrolmentError, match="say whether it excludes"):
        record(participant, coordinator, "other")
    with pytest.raises(EnrolmentError, match="always excludes"):
        record(participant, coordinator, "ineligible", excludes=False)


def test_bad_input_gets_a_clear_message(participant, coordinator):
    with pytest.raises(EnrolmentError, match="future"):
        record(participant, coordinator, "consent", on=date(2017, 7, 1))
    with pytest.raises(EnrolmentError, match="precede the enrolment"):
        record(participant, coordinator, "consent", on=date(2017, 5, 1))
    with pytest.raises(EnrolmentError, match="Describe"):
        record(participant, coordinator, "consent", text="  ")
    assert not Deviation.objects.exists()


def test_recording_and_correcting_are_audited_with_user_and_reason(
    participant, coordinator, physio_west
):
    assert issubclass(Deviation, AuditedModel)
    d = record(participant, physio_west, "other", excludes=False)
    assert (d.recorded_by, d.history.first().history_user) == (physio_west, physio_west)
    d.description = "edited without a reason"
    with pytest.raises(ReasonRequired):
        d.save()
    with pytest.raises(EnrolmentError, match="reason"):
        correct_deviation(d, user=coordinator, changes={"excludes": True}, reason="")
    changed = correct_deviation(
        d, user=coordinator, changes={"excludes": True}, reason="monitor: major deviation"
    )
    assert changed == ["excludes_per_protocol"]
    d.refresh_from_db()
    assert d.excludes_per_protocol is True
    entry = next(e for e in participant_history(participant) if e.what == "Protocol deviation")
    assert (entry.who, entry.action, entry.reason) == (
        "coordinator",
        "changed",
        "monitor: major deviation",
    )
    assert entry.changes == [("excludes_per_protocol", False, True)]


def test_the_clinics_physiotherapist_records_one_on_the_participant_page(
    client, participant, physio_west
):
    client.force_login(physio_west)
    url = reverse("deviation_record", args=[participant.study_id])
    form = {
        "type": dtype(participant.trial, "other").pk,
        "occurred_on": "2017-06-01",
        "description": SECRET,
        "excludes": "",
    }
    r = client.post(url, form)
    assert r.status_code == 400 and "say whether it excludes" in r.content.decode()
    assert escape(SECRET) in r.content.decode()  # nothing typed is lost
    r = client.post(url, {**form, "occurred_on": date.today().isoformat(), "excludes": "yes"})
    assert r.status_code == 302
    d = Deviation.objects.get()
    assert (d.recorded_by, d.type.code, d.excludes_per_protocol) == (physio_west, "other", True)
    page = client.get(reverse("participant_detail", args=[participant.study_id])).content
    assert escape(SECRET) in page.decode() and b"excluded" in page
    # A correction on its own page: refused without a reason, kept with one.
    url = reverse("deviation_correct", args=[participant.study_id, d.pk])
    fix = {**form, "occurred_on": d.occurred_on.isoformat(), "excludes": "no"}
    assert client.post(url, fix).status_code == 400
    assert client.post(url, {**fix, "reason": "judged minor at review"}).status_code == 302
    d.refresh_from_db()
    assert d.excludes_per_protocol is False
    assert d.history.first().history_change_reason == "judged minor at review"


def test_who_may_record_and_who_reads_descriptions(
    client, participant, coordinator, data_manager, physio_west, physio_east, statistician
):
    for user in (coordinator, data_manager, physio_west):
        record(participant, user, "ineligible")
    for user in (physio_east, statistician):
        with pytest.raises(PermissionDenied):
            record(participant, user, "consent")
    assert Deviation.objects.count() == 3
    client.force_login(physio_east)
    assert client.get(reverse("deviation_record", args=[participant.study_id])).status_code == 404
    client.force_login(statistician)
    assert client.get(reverse("deviation_record", args=[participant.study_id])).status_code == 403
    page = client.get(reverse("participant_detail", args=[participant.study_id])).content.decode()
    assert 'id="deviations"' in page and "Enrolled although an eligibility" in page
    assert "Svensson" not in page and 'id="record-deviation"' not in page
