from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = "Follow-up"

    def ready(self) -> None:
        from enrolment import hooks

        from . import access, receivers
        from .sms import receivers as sms_receivers

        receivers.connect()
        sms_receivers.connect()
        # The participant list's "overdue" filter (enrolment.views) asks follow-up.
        hooks.PARTICIPANT_FILTERS["overdue"] = access.overdue_participants
