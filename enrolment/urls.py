from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("trials/<slug:code>/", views.trial_overview, name="trial_overview"),
    path("trials/<slug:code>/participants/", views.participant_list, name="participant_list"),
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
        "participants/<str:study_id>/history/",
        views.participant_history_view,
        name="participant_history",
    ),
]
