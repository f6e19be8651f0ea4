from django.apps import AppConfig


class QuestionnairesConfig(AppConfig):
    name = "questionnaires"
    verbose_name = "Questionnaires"

    def ready(self) -> None:
        # Responses appear in the participant's audit trail.
        from enrolment.audit import PARTICIPANT_HISTORY_SOURCES

        from .audit import participant_responses

        if participant_responses not in PARTICIPANT_HISTORY_SOURCES:
            PARTICIPANT_HISTORY_SOURCES.append(participant_responses)
