"""A patient page is in one language: the recall instruction is a whole translated
sentence for every instrument, and the timepoint heading comes from the protocol file's
label in the patient's language."""

from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from enrolment.protocol.sections import ProtocolError
from enrolment.protocol.writing import load_protocol
from questionnaires.forms import InstrumentForm
from questionnaires.instruments.registry import all_instruments
from tests.conftest import use_betterback_built_once

from ..factories import enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module
ROOT = Path(__file__).resolve().parents[2]


def _instructions(instrument, language):
    with translation.override(language):
        form = InstrumentForm(instrument)
        html = form.helper.layout.fields[0].html if instrument.recall else ""
    return str(html)


@pytest.mark.parametrize("language", ["sv", "da"])
def test_every_recall_instruction_is_a_translated_sentence(language):
    for instrument in all_instruments():
        if not instrument.recall:
            continue
        text = _instructions(instrument, language)
        assert instrument.recall not in text, f"{instrument.code}: untranslated in {language}"
        assert text.rstrip("</p>").endswith("."), f"{instrument.code}: {text}"


@pytest.mark.parametrize(
    "language,heading,recall",
    [
        ("sv", "Vid studiens start", "Svara utifrån den senaste veckan."),
        ("da", "Ved studiens start", "Svar ud fra den seneste uge."),
    ],
)
def test_the_visit_page_is_in_the_patients_language(
    client, clinic_west, coordinator, physio_west, language, heading, recall
):
    participant = enrol(clinic_west, user=coordinator, preferred_language=language)
    client.force_login(physio_west)
    html = client.get(
        reverse("visit_page", args=[participant.study_id, "baseline", 1])
    ).content.decode()
    assert heading in html and recall in html
    assert "Baseline" not in html and "Please answer" not in html and "the latest week." not in html


def test_a_label_per_language_must_cover_the_trials_languages(tmp_path):
    text = (ROOT / "protocols" / "betterback.toml").read_text(encoding="utf-8")
    broken = text.replace(
        'label = {en = "6 months", sv = "6 månader", da = "6 måneder"}',
        'label = {en = "6 months", da = "6 måneder"}',
    )
    assert broken != text
    path = tmp_path / "broken.toml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(ProtocolError, match="6m.*no label in \\['sv'\\]"):
        load_protocol(path)
