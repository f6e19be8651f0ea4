from django.urls import include, path

from . import views, views_deviations, views_enrol, views_versions

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("enrolment.consent_urls")),
    path("trials/<slug:code>/", views.trial_overview, name="trial_overview"),
    path("trials/<slug:code>/participants/", views.participant_list, name="participant_list"),
    path(
        "trials/<slug:code>/protocol-versions/",
        views_versions.protocol_versions,
        name="protocol_versions",
    ),
    path(
        "trials/<slug:code>/protocol-versions/<int:number>/",
        views_versions.protocol_version,
        name="protocol_version",
    ),
    path("trials/<slug:code>/screen/", views_enrol.screen, name="screen"),
    path("trials/<slug:code>/enrol/<int:screening>/", views_enrol.enrol, name="enrol"),
    path("trials/<slug:code>/screening-log/", views_enrol.screening_log, name="screening_log"),
    path(
        "trials/<slug:code>/clusters/<str:cluster>/crossover/",
        views_enrol.crossover,
        name="cluster_crossover",
    ),
    path(
        "trials/<slug:code>/randomisation/",
        views_enrol.randomisation_list,
        name="randomisation_list",
    ),
    path("participants/<str:study_id>/", views.participant_detail, name="participant_detail"),
    path("participants/<str:study_id>/edit/", views.participant_edit, name="participant_edit"),
    path(
        "participants/<str:study_id>/personal-details/",
        views.personal_details_edit,
        name="personal_details_edit",
    ),
    path(
        "participants/<str:study_id>/withdraw/",
        views.participant_withdraw,
        name="participant_withdraw",
    ),
    path(
        "participants/<str:study_id>/final-visit/",
        views.participant_final_visit,
        name="participant_final_visit",
    ),
    path(
        "participants/<str:study_id>/deviations/new/",
        views_deviations.record,
        name="deviation_record",
    ),
    path(
        "participants/<str:study_id>/deviations/<int:pk>/",
        views_deviations.correct,
        name="deviation_correct",
    ),
    path(
        "participants/<str:study_id>/history/",
        views.participant_history_view,
        name="participant_history",
    ),
]
