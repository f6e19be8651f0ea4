from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = "Follow-up"

    def ready(self) -> None:
        from . import receivers
        from .sms import receivers as sms_receivers

        receivers.connect()
        sms_receivers.connect()
