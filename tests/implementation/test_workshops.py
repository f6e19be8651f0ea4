"""BetterBack's workshop: two days, attendance and diplomas, and the physiotherapists'
questionnaires on the workshop's days at the times the protocol file names."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from enrolment.models import Physiotherapist, Timepoint
from enrolment.protocol.sections import ProtocolError
from enrolment.protocol.writing import load_protocol
from implementation import workshops
from implementation.models import Attendance, Workshop
from tests.conftest import use_betterback_built_once

from ..conftest import PROTOCOLS

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def _physio(user) -> Physiotherapist:
    return Physiotherapist.objects.get(user=user)


def _workshop(cluster, coordinator, physios=(), day1=date(2017, 3, 14), day2=date(2017, 3, 21)):
    return workshops.create_workshop(
        cluster,
        day1=day1,
        day2=day2,
        facilitators="Two researchers, one clinical champion",
        user=coordinator,
        physiotherapists=physios,
    )


def test_the_protocol_file_anchors_the_questionnaires_on_the_workshop_days(betterback):
    tps = {t.code: t for t in Timepoint.objects.filter(trial=betterback, anchor="workshop")}
    assert (tps["pt-before"].workshop_day, tps["pt-before"].at) == (1, time(8, 30))
    assert (tps["pt-after"].workshop_day, tps["pt-after"].at) == (2, time(15, 30))
    assert tps["pt-before"].instruments[0] == "pt_background"


def test_workshop_day_belongs_to_workshop_timepoints(tmp_path):
    text = (PROTOCOLS / "betterback.toml").read_text(encoding="utf-8")
    broken = text.replace(
        'anchor = "enrolment"\noffset = 3', 'anchor = "enrolment"\nworkshop_day = 2\noffset = 3', 1
    )
    assert broken != text
    path = tmp_path / "broken.toml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(ProtocolError, match="workshop_day and at belong"):
        load_protocol(path)


def test_invited_physiotherapists_are_asked_on_day_1_at_0830_and_day_2_at_1530(
    clinic_west, coordinator, physio_west
):
    physio = _physio(physio_west)
    workshop = _workshop(clinic_west.cluster, coordinator, [physio])
    physio.refresh_from_db()
    assert physio.workshop_date == date(2017, 3, 14)
    contacts = {c.timepoint.code: c for c in physio.contacts.select_related("timepoint")}
    # Stockholm in March is UTC+1: 08:30 local is 07:30 UTC.
    assert contacts["pt-before"].due_at == datetime(2017, 3, 14, 7, 30, tzinfo=UTC)
    assert contacts["pt-after"].due_at == datetime(2017, 3, 21, 14, 30, tzinfo=UTC)
    assert contacts["pt-after"].anchor_date == workshop.day2
    assert contacts["pt-3m"].due_on == date(2017, 6, 21)
    assert contacts["pt-12m"].due_on == date(2018, 3, 21)


def test_attendance_and_diploma_are_audited_and_a_change_needs_a_reason(
    clinic_west, coordinator, physio_west
):
    physio = _physio(physio_west)
    workshop = _workshop(clinic_west.cluster, coordinator, [physio])
    row = Attendance.objects.get(workshop=workshop, physiotherapist=physio)
    with pytest.raises(ValidationError, match="both days"):
        workshops.record_attendance(
            row, day1=True, day2=False, diploma_on=date(2017, 3, 21), user=coordinator
        )
    workshops.record_attendance(
        row, day1=True, day2=True, diploma_on=date(2017, 3, 21), user=coordinator
    )
    with pytest.raises(ValidationError, match="reason"):
        workshops.record_attendance(row, day1=True, day2=False, diploma_on=None, user=coordinator)
    workshops.record_attendance(
        row,
        day1=True,
        day2=False,
        diploma_on=None,
        user=coordinator,
        reason="left at lunch on day 2",
    )
    history = list(row.history.order_by("history_date"))
    assert [h.history_change_reason for h in history] == [
        "invited to the workshop",
        "attendance recorded",
        "left at lunch on day 2",
    ]
    assert history[-1].history_user == coordinator and history[-2].diploma_on == date(2017, 3, 21)


def test_only_the_clusters_physiotherapists_once_and_only_by_coordinators(
    clinic_west, clinic_east, coordinator, physio_west, physio_east, statistician
):
    with pytest.raises(ValidationError, match="another cluster"):
        _workshop(clinic_west.cluster, coordinator, [_physio(physio_east)])
    _workshop(clinic_west.cluster, coordinator, [_physio(physio_west)])
    with pytest.raises(ValidationError, match="already invited"):
        _workshop(clinic_west.cluster, coordinator, [_physio(physio_west)])
    with pytest.raises(PermissionDenied):
        _workshop(clinic_west.cluster, statistician)
    with pytest.raises(ValidationError, match="before day 1"):
        _workshop(clinic_west.cluster, coordinator, day1=date(2017, 3, 2), day2=date(2017, 3, 1))


def test_the_coordinator_pages(client, clinic_west, coordinator, physio_west, statistician):
    physio = _physio(physio_west)
    url = reverse("workshops", args=["betterback"])
    client.force_login(statistician)
    assert client.get(url).status_code == 403
    client.force_login(coordinator)
    response = client.post(
        url,
        {
            "cluster": clinic_west.cluster.pk,
            "day1": "2017-03-14",
            "day2": "2017-03-15",
            "hours": "13.5",
            "facilitators": "AA, BB",
            "physiotherapists": [physio.pk],
        },
    )
    workshop = Workshop.objects.get()
    assert response.status_code == 302 and workshop.attendances.count() == 1
    detail = reverse("workshop_detail", args=["betterback", workshop.pk])
    row = workshop.attendances.get()
    p = str(row.pk)
    bad = client.post(
        detail,
        {
            "attendance": row.pk,
            f"{p}-day1": "yes",
            f"{p}-day2": "no",
            f"{p}-diploma_on": "2017-03-15",
        },
    )
    assert bad.status_code == 400 and "both days" in bad.content.decode()
    ok = client.post(
        detail,
        {
            "attendance": row.pk,
            f"{p}-day1": "yes",
            f"{p}-day2": "yes",
            f"{p}-diploma_on": "2017-03-15",
        },
    )
    assert ok.status_code == 302
    row.refresh_from_db()
    assert (row.day1, row.day2, row.diploma_on) == (True, True, date(2017, 3, 15))
    with __import__("django").utils.translation.override("sv"):
        page = client.get(detail, HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert physio.study_code in page


def test_a_physiotherapist_who_started_later_is_invited_on_the_workshop_page(
    client, clinic_west, coordinator, physio_west
):
    physio = _physio(physio_west)
    workshop = _workshop(clinic_west.cluster, coordinator)
    detail = reverse("workshop_detail", args=["betterback", workshop.pk])
    client.force_login(coordinator)
    assert physio.study_code in client.get(detail).content.decode()
    url = reverse("workshop_invite", args=["betterback", workshop.pk])
    assert client.post(url, {"physiotherapists": [physio.pk]}).status_code == 302
    assert workshop.attendances.get().physiotherapist == physio
    assert physio.contacts.filter(timepoint__code="pt-after").exists()
    assert 'id="invite-form"' not in client.get(detail).content.decode()  # nobody left
