"""Issue 14 end to end, through the processes production runs: a BetterBack participant
with only a mobile number gets the 3-month invitation by SMS from a Celery worker and
beat (the real dispatcher, Twilio backend) at a fake Twilio (a threaded HTTP server in
this test process, from tests/e2e/test_sms_gateway.py); the link in the text opens the
questionnaires on a 390-px phone in Swedish (the site served by gunicorn, headless
Chromium); answering them closes the contact, and the worker sends no reminder after.
The embedded installation (SQLite, filesystem broker), as ``manage.py demo`` runs it.
"""

from __future__ import annotations

import re

import pytest

from .followup_site import SETUP  # the same BetterBack, any hour allowed
from .stack import Installation, free_port, installation_fixtures, start_site, wait_for
from .test_sms_gateway import ACCOUNT_SID, AUTH_TOKEN, gateway  # noqa: F401 - the fake Twilio

pytestmark = pytest.mark.e2e

MOBILE = "+46701234567"

SETTINGS = {
    "SMS_BACKEND": "followup.sms.backends.TwilioBackend",
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "TWILIO_FROM_NUMBER": "+46700000000",
    "TWILIO_TIMEOUT_SECONDS": "5",
    "FOLLOWUP_DISPATCH_SECONDS": "1",
    "SMS_DISPATCH_SECONDS": "3600",
    "WARM_UP": "0",
}


# Enrolled through the real action with a mobile number and no email; the 3-month
# contact falls due now (its window around it), as in the SAFE test: no faked clock.
ENROL = """
from datetime import timedelta
from django.utils import timezone
from enrolment.models import Clinic
from followup.schedule import add_months
from tests.factories import enrol
clinic = Clinic.objects.filter(cluster__trial__code="betterback").order_by("pk").first()
now = timezone.now()
p = enrol(clinic, enrolled_on=add_months(now.date(), -3), email="", mobile=ARGS["mobile"],
          preferred_language="sv", contact_preference="sms")
contact = p.contacts.get(timepoint__code="3m")
contact.due_at = contact.next_action_at = contact.opens_at = now
contact.closes_at = now + timedelta(days=30)
contact.window_opens, contact.window_closes = now.date(), (now + timedelta(days=30)).date()
contact.save()
print(json.dumps({"contact": contact.pk, "study_id": p.study_id}))
"""

# The first reminder falls due now: the worker would send it if the contact were open.
REMIND_NOW = """
from django.utils import timezone
from followup.models import Contact
now = timezone.now()
print(json.dumps(Contact.objects.filter(pk=ARGS["contact"]).update(next_action_at=now)))
"""


class BetterBackInstallation(Installation):
    script_timeout = 600  # BetterBack's set-up loads 112 physiotherapists on a busy machine


embedded, postgres_redis, site = installation_fixtures(
    SETUP,
    SETTINGS,
    kind=BetterBackInstallation,
    database_name="trialsite_e2e_sms_invitation",
    redis_db=13,
    what="the SMS invitation test",
)


def contact_row(installation, pk: int) -> dict:
    names = ("status", "reminders_sent", "next_action_at")
    (row,) = installation.sql(
        f"SELECT {', '.join(names)} FROM followup_contact WHERE id = %s", (pk,)
    )
    return dict(zip(names, row, strict=True))


def test_the_3_month_invitation_by_sms_opens_on_the_phone_and_answering_stops_reminders(
    embedded,
    gateway,  # noqa: F811 - the fixture imported above
    browser,
):
    port = free_port()
    site_url = f"http://127.0.0.1:{port}"
    addresses = {"TWILIO_BASE_URL": gateway.url, "FOLLOWUP_BASE_URL": site_url}
    enrolled = embedded.django(ENROL, {"mobile": MOBILE})
    embedded.start_worker(**addresses)
    start_site(embedded, port, **addresses)

    wait_for(lambda: gateway.to(MOBILE), 60, "the SMS invitation", logs=embedded.logs)
    (sms,) = gateway.to(MOBILE)
    assert sms.body.startswith("BetterBack") and "enkät" in sms.body, sms.body
    link = re.search(r"http://\S+/s/[\w-]+/", sms.body).group(0)
    assert link.startswith(site_url)

    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, locale="sv-SE")
    page.goto(link)
    for _ in range(20):
        page.wait_for_load_state()
        if "/done/" in page.url:
            break
        assert page.get_attribute("html", "lang") == "sv"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.url
        for name in page.eval_on_selector_all(
            "input[type=radio]", "els => [...new Set(els.map(e => e.name))]"
        ):
            page.locator(f"input[type=radio][name='{name}']").first.check(force=True)
        for field in page.locator("input[type=number]").all():
            field.fill("1")
        for field in page.locator("textarea").all():
            field.fill("ryggen")
        page.locator("form button[value=next]").click()
    assert "/done/" in page.url and "Tack" in page.inner_text("body")
    page.close()
    wait_for(
        lambda: contact_row(embedded, enrolled["contact"])["status"] == "completed",
        30,
        "the contact to be completed",
        logs=embedded.logs,
    )

    # A reminder due now is not sent: the worker closes the step instead.
    embedded.django(REMIND_NOW, {"contact": enrolled["contact"]})
    embedded.sql(
        "UPDATE followup_contact SET status = 'invited' WHERE id = %s", (enrolled["contact"],)
    )
    wait_for(
        lambda: contact_row(embedded, enrolled["contact"])["status"] == "completed",
        30,
        "the dispatcher to find it answered",
        logs=embedded.logs,
    )
    assert len(gateway.to(MOBILE)) == 1
    assert contact_row(embedded, enrolled["contact"])["reminders_sent"] == 0
