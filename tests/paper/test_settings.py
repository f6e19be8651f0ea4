"""The protocol file's [paper] table: loaded onto the trial, checked strictly."""

import pytest

from enrolment.protocol.reading import read_protocol
from enrolment.protocol.sections import ProtocolError
from paper.settings import paper_settings
from tests.conftest import use_betterback_built_once

from ..conftest import PROTOCOLS

betterback = use_betterback_built_once()  # loaded once for the module


@pytest.mark.django_db
def test_betterbacks_return_address_and_double_entry_rule(betterback):
    settings = paper_settings(betterback)
    assert settings.return_address[-1] == "Sweden"
    assert settings.scan_replaces_double_entry is False


def test_a_misspelt_paper_key_is_refused(tmp_path):
    text = (PROTOCOLS / "betterback.toml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("scan_replaces_double_entry", "scan_replace_double_entry"))
    with pytest.raises(ProtocolError, match="paper.scan_replace_double_entry: unknown key"):
        read_protocol(bad)


def test_a_trial_without_a_paper_table_returns_to_the_clinic():
    assert paper_settings(None).return_address == ()
