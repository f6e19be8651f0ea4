from django.apps import AppConfig


class EnrolmentConfig(AppConfig):
    name = "enrolment"
    verbose_name = "Enrolment"

    def ready(self) -> None:
        from .consent.electronic import scrub_electronic_consents
        from .signals import personal_data_erased

        personal_data_erased.connect(scrub_electronic_consents, dispatch_uid="consent-erasure")
