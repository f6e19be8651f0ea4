"""The post tray on a tablet (headless Chromium): a pack ready to post and one held until
its participant re-consents, each table within the screen."""

import pytest

from tests.enrolment.test_consent import amend, reconsent
from tests.factories import enrol
from tests.paper.conftest import in_tray

from .conftest import log_in_at

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_tray_and_the_held_packs_fit_a_tablet(
    browser, live_server, coordinator, clinic_west, tmp_path
):
    """The held pack's reason, a badge on one line, made the page 893 px wide on an
    820-px tablet in the demo."""
    waiting, ready = enrol(clinic_west), enrol(clinic_west)
    in_tray(waiting), in_tray(ready)
    amend(tmp_path)  # consent 2.0 required: data collection held until re-consent
    reconsent(ready)
    page = log_in_at(browser, live_server, "coordinator", "/paper/betterback/post/", 820, 1180)
    assert waiting.study_id in page.inner_text("#post-tray-held")
    assert ready.study_id in page.inner_text("#post-tray")
    assert page.evaluate("document.documentElement.scrollWidth") <= 820
    page.close()
