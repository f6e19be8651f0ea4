from django.urls import path

from . import consent_views

urlpatterns = [
    path("trials/<slug:code>/reconsent/", consent_views.reconsent_list, name="reconsent_list"),
    path(
        "trials/<slug:code>/interview-candidates/",
        consent_views.interview_candidates,
        name="interview_candidates",
    ),
    path(
        "participants/<str:study_id>/consent/",
        consent_views.participant_consent,
        name="participant_consent",
    ),
    path(
        "participants/<str:study_id>/consent/electronic/<int:pk>.pdf",
        consent_views.electronic_pdf,
        name="electronic_consent_pdf",
    ),
    path("consent/<str:token>/", consent_views.electronic_consent, name="electronic_consent"),
]
