from django.apps import AppConfig


class QuestionnairesConfig(AppConfig):
    name = "questionnaires"
    verbose_name = "Questionnaires"

    def ready(self) -> None:
        # Responses appear in the participant's audit trail.
        from enrolment import catalogue
        from enrolment.amendments import protocol_amended, protocol_amendment_checks
        from enrolment.audit import PARTICIPANT_HISTORY_SOURCES
        from enrolment.signals import enrolment_date_corrected

        from . import amendment_checks, flags, instruments
        from .audit import participant_responses
        from .instruments import declared

        # The protocol loader (enrolment) checks the instruments a file names against these.
        catalogue.register(instruments, declare=declared.register_declared)

        protocol_amendment_checks.connect(
            amendment_checks.refusals, dispatch_uid="questionnaires.amendment_checks"
        )
        # The responses' window flags follow their windows (questionnaires.flags).
        protocol_amended.connect(flags.on_protocol_amended, dispatch_uid="questionnaires.flags")
        enrolment_date_corrected.connect(
            flags.on_enrolment_date_corrected, dispatch_uid="questionnaires.flags"
        )

        if participant_responses not in PARTICIPANT_HISTORY_SOURCES:
            PARTICIPANT_HISTORY_SOURCES.append(participant_responses)

    def warm_up(self) -> None:
        """Every instrument definition, imported by the registry (trialsite.warmup)."""
        from . import instruments

        instruments.all_instruments()
