"""The analysis dataset's design columns from the database: clinic, enrolled_month,
period and per_protocol from the deviation log, their codebook, no deviation text in any
export; and the deviations in monitoring, per type and cluster, scoped by role."""

import re
from datetime import date

import pandas as pd
import pytest
from django.urls import reverse

from analysis import exports
from analysis.plan.dataset import validate_dataset
from enrolment.deviations import record_deviation
from enrolment.models import Clinic, DeviationType
from tests.conftest import use_betterback_built_once

from ..factories import enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

TEXT = "Told the physio about her neighbour Nils Holm"


@pytest.fixture
def enrolled(betterback, coordinator):
    def at(code, day):
        return enrol(Clinic.objects.get(cluster__trial=betterback, code=code), enrolled_on=day)

    people = {
        "first": at("MOT", date(2017, 4, 3)),  # West, intervention from the start
        "before": at("EKH", date(2017, 9, 17)),  # Central, the day before its crossover
        "after": at("EKH", date(2017, 9, 18)),  # Central, crossover day: period 2
        "east": at("NCE", date(2018, 1, 31)),
    }

    def deviation(who, code, excludes=None):
        record_deviation(
            people[who],
            user=coordinator,
            type=DeviationType.objects.get(trial=betterback, code=code),
            occurred_on=people[who].enrolled_on,
            description=TEXT,
            excludes=excludes,
            today=date(2018, 6, 1),
        )

    deviation("before", "ineligible")  # excludes by the protocol
    deviation("after", "consent")  # never excludes
    deviation("east", "other", excludes=False)
    deviation("east", "not-consecutive")
    return people


def test_design_columns_of_the_analysis_dataset(betterback, enrolled):
    df = exports.analysis_dataset(betterback)
    assert validate_dataset(df) == []
    rows = df[df.timepoint_months == 0].set_index("study_id")
    got = {
        who: tuple(
            rows.loc[
                p.study_id,
                ["clinic", "enrolled_month", "period", "per_protocol", "deviation_types"],
            ]
        )
        for who, p in enrolled.items()
    }
    assert got == {
        "first": ("MOT", 0, 1, True, ""),
        "before": ("EKH", 5, 1, False, "ineligible"),
        "after": ("EKH", 5, 2, True, "consent"),
        "east": ("NCE", 9, 2, True, "not-consecutive;other"),
    }
    # Constant within a participant, on all four timepoint rows.
    assert (df.groupby("study_id")[["period", "per_protocol"]].nunique() == 1).all().all()
    assert df.per_protocol.dtype == bool and df.period.dtype.kind == "i"


def test_codebook_says_how_each_is_derived_and_no_text_leaves(betterback, enrolled, tmp_path):
    for blinded in (False, True):
        exports.write_export(betterback, tmp_path / "a.csv", "csv", "analysis", blinded=blinded)
        book = pd.read_csv(tmp_path / "a_codebook.csv", keep_default_na=False).set_index("name")
        data = pd.read_csv(tmp_path / "a.csv", keep_default_na=False)
        assert list(data.columns) == list(book.index)
        # Some deviation types occur in one condition only: a blinded export leaves them out.
        assert ("deviation_types" in data.columns) is not blinded
        for f in tmp_path.iterdir():
            assert "Holm" not in f.read_text(), f.name
    assert "2017-04-03" in book.loc["enrolled_month", "scoring_rule"]  # the first enrolment
    assert "C 2017-09-18" in book.loc["period", "scoring_rule"]
    assert "periods begin on: 2017-09-18" in book.loc["period", "scoring_rule"]
    assert "ineligible" in book.loc["per_protocol", "scoring_rule"]
    assert "never exported" in book.loc["per_protocol", "scoring_rule"]
    assert "Ekholmen" in book.loc["clinic", "value_labels"]


def _cells(html: str, row: str) -> list[str]:
    """The cell texts of one row of the deviation table (``<tr data-type=...>`` or the foot)."""
    table = html[html.index('id="deviation-table"') :]
    table = table[: table.index("</table>")]
    tr = table[table.index(row) :]
    tr = tr[: tr.index("</tr>")]
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr)]


def test_monitoring_counts_per_type_and_cluster_within_the_users_scope(
    client, betterback, enrolled, coordinator, physio_east
):
    url = reverse("monitoring_dashboard", args=["betterback"])
    client.force_login(coordinator)
    html = client.get(url).content.decode()
    assert _cells(html, "<thead>") == ["Type", "West", "Central", "East", "All", "Excluding"]
    assert _cells(html, 'data-type="ineligible"')[1:] == ["0", "1", "0", "1", "1"]
    assert _cells(html, "<tfoot>")[1:] == ["0", "2", "2", "4", "1"]
    assert "1 participant out of the per-protocol set" in html
    client.force_login(physio_east)
    html = client.get(url).content.decode()
    assert _cells(html, "<thead>") == ["Type", "East", "All", "Excluding"]
    assert _cells(html, 'data-type="ineligible"')[1:] == ["0", "0", "0"]
    assert _cells(html, "<tfoot>")[1:] == ["2", "2", "0"]
    assert "0 participants out of the per-protocol set" in html
