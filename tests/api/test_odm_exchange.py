"""ODM metadata read back as a draft protocol file, the download pages for other systems
(ODM and the REDCap data dictionary), and the command line."""

import csv
import io
import re
import tomllib

import pytest
from django.core.management import call_command
from django.urls import reverse

from analysis.models import ExportLog
from analysis.redcap_dictionary import COLUMNS, dictionary_csv
from api.odm.draft import OdmError, draft_toml, read_draft
from api.odm.export import odm_chunks
from questionnaires.instruments import get
from tests.analysis.exportdata import make_trial_data
from tests.conftest import use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def test_the_metadata_of_an_export_reads_back_as_the_trials_timepoints(betterback):
    draft = read_draft("".join(odm_chunks(betterback)).encode())
    toml = tomllib.loads(draft_toml(draft))
    exported = {
        tp.code: tp.instruments
        for tp in betterback.timepoints.filter(respondent__in=["patient", "clinician"])
    }
    assert {tp["code"]: tp["instruments"] for tp in toml["timepoints"]} == exported
    assert toml["trial"]["code"] == "betterback"


def test_a_form_with_no_instrument_definition_is_listed_for_review_not_dropped():
    foreign = """<?xml version="1.0"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" ODMVersion="1.3.2" FileType="Snapshot"
     FileOID="x" CreationDateTime="2026-01-01T00:00:00">
 <Study OID="S1"><GlobalVariables><StudyName>Other study</StudyName>
  <StudyDescription>Another EDC's study</StudyDescription><ProtocolName>P</ProtocolName>
  </GlobalVariables>
  <MetaDataVersion OID="M1" Name="v1">
   <Protocol><StudyEventRef StudyEventOID="V1" OrderNumber="1" Mandatory="Yes"/></Protocol>
   <StudyEventDef OID="V1" Name="Week 6" Repeating="No" Type="Scheduled">
    <FormRef FormOID="FRM_ODI" Mandatory="Yes"/><FormRef FormOID="FRM_X" Mandatory="No"/>
   </StudyEventDef>
   <FormDef OID="FRM_ODI" Name="ODI" Repeating="No"/>
   <FormDef OID="FRM_X" Name="Vital signs" Repeating="No"/>
  </MetaDataVersion></Study></ODM>"""
    text = draft_toml(read_draft(foreign), source="other.xml")
    toml = tomllib.loads(text)
    assert toml["timepoints"][0]["instruments"] == ["odi"]
    assert "form FRM_X 'Vital signs' matches no instrument definition" in text


def test_a_file_that_is_not_odm_metadata_is_refused_with_its_reason():
    with pytest.raises(OdmError, match="not well-formed"):
        read_draft(b"<ODM")
    with pytest.raises(OdmError, match="no Study/MetaDataVersion"):
        read_draft(b'<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"/>')


def test_the_redcap_dictionary_follows_redcaps_rules(betterback):
    rows = list(csv.reader(io.StringIO(dictionary_csv(betterback))))
    assert rows[0] == COLUMNS
    fields = [dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]]
    assert fields[0]["Variable / Field Name"] == "record_id"
    names = [f["Variable / Field Name"] for f in fields]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]{0,99}", n) for n in names)
    odi_q1 = next(f for f in fields if f["Variable / Field Name"] == "odi_q1")
    choices = [
        c.split(", ", 1) for c in odi_q1["Choices, Calculations, OR Slider Labels"].split(" | ")
    ]
    assert [(int(code), label) for code, label in choices] == [
        (c.code, c.label) for c in get("odi").item("q1").choices
    ]
    assert odi_q1["Field Type"] == "radio" and odi_q1["Form Name"] == "odi_v1"


def test_statisticians_download_odm_blinded_in_a_blinded_trial_and_it_is_logged(
    client, statistician, betterback
):
    make_trial_data(betterback, per_clinic=1)
    client.force_login(statistician)
    response = client.get(reverse("odm_export", args=[betterback.code]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    clinical = body.split("<ClinicalData")[1]
    assert "intervention" not in clinical and "control" not in clinical
    log = ExportLog.objects.get(trial=betterback, format="odm")
    assert log.blinded and log.user == statistician and log.rows == 3


def test_physiotherapists_may_not_download_and_other_trials_are_not_found(
    client, physio_west, betterback
):
    client.force_login(physio_west)
    assert client.get(reverse("odm_export", args=[betterback.code])).status_code == 403
    assert client.get(reverse("redcap_dictionary", args=[betterback.code])).status_code == 403
    assert client.get(reverse("odm_export", args=["no-such-trial"])).status_code == 404


def test_the_commands_write_odm_and_read_it_back(betterback, tmp_path):
    out = tmp_path / "bb.xml"
    call_command("export_odm", "betterback", "--out", str(out), stdout=io.StringIO())
    assert out.stat().st_size > 0
    printed = io.StringIO()
    call_command("odm_to_protocol", str(out), stdout=printed)
    codes = [tp["code"] for tp in tomllib.loads(printed.getvalue())["timepoints"]]
    assert "3m" in codes and "crpe-first" in codes
