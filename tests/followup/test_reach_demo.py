"""The demo shows every channel: participants by email, SMS, both and post, and packs in
the post tray for the paper app's "post today" list. (A participant no channel can reach
is added where a larger demo has more open questionnaires than the channels need.)"""

import pytest
from django.core.management import call_command

from enrolment.models import PersonalDetails
from followup.models import Message

pytestmark = pytest.mark.django_db


def test_the_demo_has_participants_on_every_channel_and_post_in_the_tray():
    args = ["--participants", "30", "--safe-participants", "0", "--other-participants", "0"]
    call_command("demo", "--no-serve", *args)
    preferences = set(
        PersonalDetails.objects.filter(participant__trial__code="betterback").values_list(
            "contact_preference", flat=True
        )
    )
    assert preferences == {"email", "sms", "both", "post"}
    tray = Message.objects.filter(channel=Message.POST, status=Message.SENT, posted_at=None)
    assert tray.exists()
    # A second run changes nobody's channel and posts nothing more.
    posted = tray.count()
    call_command("demo", "--no-serve", *args)
    assert tray.count() == posted
