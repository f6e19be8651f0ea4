from django.apps import AppConfig


class ImplementationConfig(AppConfig):
    name = "implementation"
    verbose_name = "Implementation and process measures"

    def ready(self) -> None:
        from enrolment.audit import PARTICIPANT_HISTORY_SOURCES

        if participant_interview not in PARTICIPANT_HISTORY_SOURCES:
            PARTICIPANT_HISTORY_SOURCES.append(participant_interview)


def participant_interview(participant):
    """The interview selection in the participant's History."""
    from .models import Interview

    yield Interview.history.filter(participant_id=participant.pk), "Interview selection"
