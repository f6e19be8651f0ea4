"""CDISC ODM 1.3.2 export: every file validates against the published schema (CDISC's
files, vendored in api/odm/schema/1.3.2 with their licence), carries the trial's metadata
and its pseudonymised data, and no personal detail."""

import io
import random
import xml.etree.ElementTree as etree
from datetime import date
from pathlib import Path

import pytest
import xmlschema

import api.odm
from api.odm.export import odm_chunks, write_odm
from enrolment import randomisation_store
from enrolment.protocol.writing import load_protocol
from questionnaires import missing
from questionnaires.models import Response
from questionnaires.services.saving import correct_response
from tests.analysis.exportdata import make_trial_data, respond
from tests.conftest import PROTOCOLS, use_betterback_built_once
from tests.factories import UserFactory, enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

SCHEMA = Path(api.odm.__file__).parent / "schema" / "1.3.2" / "ODM1-3-2.xsd"
NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(str(SCHEMA))


def test_the_vendored_schema_comes_with_its_licence_and_refuses_a_broken_file(schema,
                                                                            betterback):
    folder = SCHEMA.parent
    assert "MIT License" in (folder / "LICENSE").read_text()
    assert "cdisc-org/DataExchange-ODM" in (folder / "README.md").read_text()
    xml = _odm(betterback)
    schema.validate(io.BytesIO(xml))
    # The schema is strict enough to catch our mistakes: an event without its OID fails.
    broken = xml.replace(b'<StudyEventDef OID="SE.BASELINE"', b"<StudyEventDef", 1)
    assert broken != xml
    assert not schema.is_valid(io.BytesIO(broken))


def _odm(trial, **kw) -> bytes:
    return "".join(odm_chunks(trial, **kw)).encode()


def test_the_export_of_a_trial_with_data_validates_against_the_odm_schema(
    betterback, schema, coordinator
):
    people = make_trial_data(betterback, per_clinic=2)
    # A corrected value (an audit record with a reason) and an item missing with a reason.
    odi = Response.objects.get(participant=people[0], timepoint__code="3m", instrument="odi",
                               entry=Response.FINAL)
    answers = dict(odi.answers, q1=(odi.answers["q1"] + 1) % 6)
    correct_response(odi, answers, "Paper form re-read", user=coordinator)
    nrs = Response.objects.get(participant=people[1], timepoint__code="baseline",
                               instrument="nrs", entry=Response.FINAL)
    item = next(iter(nrs.answers))
    nrs.missing = {item: missing.REFUSED}
    nrs.answers = {k: v for k, v in nrs.answers.items() if k != item}
    nrs._change_reason = "test: refused"
    nrs.save()

    xml = _odm(betterback)
    schema.validate(io.BytesIO(xml))

    doc = etree.fromstring(xml)
    subjects = doc.findall(".//odm:SubjectData", NS)
    assert sorted(s.get("SubjectKey") for s in subjects) == sorted(p.study_id for p in people)
    events = {e.get("OID") for e in doc.findall(".//odm:StudyEventDef", NS)}
    assert {"SE.BASELINE", "SE.3M", "SE.6M", "SE.12M", "SE.ENROLMENT"} <= events
    # Measurement units: the age at enrolment is in years.
    assert doc.find(".//odm:BasicDefinitions/odm:MeasurementUnit[@OID='MU.YEARS']", NS) is not None
    age = doc.find(".//odm:ItemDef[@OID='I.ENROLMENT.AGE']", NS)
    assert age.find("odm:MeasurementUnitRef", NS).get("MeasurementUnitOID") == "MU.YEARS"
    # ODI's items are integers with a code list of the instrument's choices.
    q1 = doc.find(".//odm:ItemDef[@OID='I.ODI.V1.Q1']", NS)
    assert q1.get("DataType") == "integer"
    code_list = doc.find(".//odm:CodeList[@OID='CL.ODI.V1.Q1']", NS)
    assert len(code_list.findall("odm:CodeListItem", NS)) == 6
    # The corrected value carries who (by number), when and why.
    subject = next(s for s in subjects if s.get("SubjectKey") == people[0].study_id)
    value = subject.find(
        ".//odm:StudyEventData[@StudyEventOID='SE.3M']//odm:ItemData[@ItemOID='I.ODI.V1.Q1']", NS
    )
    assert value.get("Value") == str(answers["q1"])
    audit = value.find("odm:AuditRecord", NS)
    assert audit.find("odm:UserRef", NS).get("UserOID") == f"USR.{coordinator.pk}"
    assert audit.find("odm:ReasonForChange", NS).text == "Paper form re-read"
    # The refused item is null with its reason code.
    subject = next(s for s in subjects if s.get("SubjectKey") == people[1].study_id)
    null = subject.find(
        f".//odm:StudyEventData[@StudyEventOID='SE.BASELINE']"
        f"//odm:ItemData[@ItemOID='I.NRS.V{nrs.version}.{item.upper()}']", NS
    )
    assert null.get("IsNull") == "Yes" and null.get("Value") is None
    assert null.find(".//odm:FlagValue", NS).text == str(missing.REFUSED)


def test_no_personal_detail_or_free_text_reaches_the_file(betterback):
    people = make_trial_data(betterback, per_clinic=1)
    xml = _odm(betterback).decode()
    for p in people:
        details = p.personal_details
        for secret in (details.full_name, details.national_id, details.email, details.mobile):
            assert secret not in xml
        assert details.date_of_birth.isoformat() not in xml


def test_a_blinded_export_shows_blinding_letters_not_arms(betterback, schema):
    make_trial_data(betterback, per_clinic=1)
    xml = _odm(betterback, blinded=True)
    schema.validate(io.BytesIO(xml))
    doc = etree.fromstring(xml)
    conditions = {
        v.get("Value") for v in doc.findall(".//odm:ItemData[@ItemOID='I.ENROLMENT.CONDITION']", NS)
    }
    assert conditions and conditions <= {"A", "B"}
    assert b"intervention" not in xml.split(b"<ClinicalData")[1]


def test_weekly_sms_answers_are_a_repeating_event_keyed_by_week(db, schema):
    safe, _ = load_protocol(PROTOCOLS / "safe.toml")
    coordinator = UserFactory(username="safe-coord")
    randomisation_store.generate(safe, coordinator, seed=20211101)
    p = enrol(safe.clusters.first().clinics.first(), enrolled_on=date(2022, 1, 10))
    tp = next(t for t in safe.timepoints.all() if "sms_tracking" in t.instruments)
    for week in (1, 2):
        r = respond(p, tp, "sms_tracking", random.Random(week), days=7 * week)
        r.week = week
        r._change_reason = "test"
        r.save()
    xml = _odm(safe)
    schema.validate(io.BytesIO(xml))
    doc = etree.fromstring(xml)
    keys = [
        e.get("StudyEventRepeatKey")
        for e in doc.findall(f".//odm:StudyEventData[@StudyEventOID='SE.{tp.code.upper()}']", NS)
    ]
    assert keys == ["1", "2"]
    assert doc.find(f".//odm:StudyEventDef[@OID='SE.{tp.code.upper()}']", NS).get(
        "Repeating"
    ) == "Yes"


def test_the_file_writer_returns_the_size_written(betterback, tmp_path, schema):
    make_trial_data(betterback, per_clinic=1)
    path = tmp_path / "bb.xml"
    size = write_odm(betterback, path)
    assert size == path.stat().st_size > 0
    schema.validate(str(path))


@pytest.mark.parametrize("protocol", sorted(p.name for p in PROTOCOLS.glob("*.toml")))
def test_every_seed_trial_exports_valid_odm_with_every_instrument_answered(
    db, schema, protocol
):
    trial, _ = load_protocol(PROTOCOLS / protocol)
    if trial.randomisation:
        randomisation_store.generate(trial, UserFactory(username="coord"), seed=1)
    p = enrol(trial.clusters.first().clinics.first(), enrolled_on=trial.recruitment_start)
    rng = random.Random(2)
    answered = 0
    for tp in trial.timepoints.filter(respondent__in=["patient", "clinician"]):
        for code in tp.instruments:
            respond(p, tp, code, rng, days=1)
            answered += 1
    xml = _odm(trial)
    schema.validate(io.BytesIO(xml))
    forms = etree.fromstring(xml).findall(".//odm:SubjectData//odm:FormData", NS)
    assert len(forms) == answered + 1  # and the enrolment form


def test_the_api_streams_the_odm_file_blinded_for_a_statistician_and_logs_it(
    betterback, schema, statistician, api
):
    from analysis.models import ExportLog

    make_trial_data(betterback, per_clinic=1)
    r = api(statistician).get("/api/v1/trials/betterback/odm.xml")
    assert r.status_code == 200 and r.streaming
    assert r["Content-Type"].startswith("application/xml")
    xml = b"".join(r.streaming_content)
    schema.validate(io.BytesIO(xml))
    subjects = etree.fromstring(xml).findall(".//odm:SubjectData", NS)
    assert len(subjects) == 3
    clinical = xml.split(b"<ClinicalData")[1]
    assert b"intervention" not in clinical and b"control" not in clinical
    log = ExportLog.objects.get(trial=betterback, format="odm")
    assert log.blinded and log.user == statistician and log.rows == 3
