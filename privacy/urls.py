from django.urls import path

from . import views

urlpatterns = [
    path(
        "participants/<str:study_id>/subject-access/",
        views.subject_access_page,
        name="subject_access",
    ),
    path(
        "participants/<str:study_id>/subject-access.json",
        views.subject_access_json,
        name="subject_access_json",
    ),
    path(
        "participants/<str:study_id>/subject-access.pdf",
        views.subject_access_pdf,
        name="subject_access_pdf",
    ),
    path("participants/<str:study_id>/erase/", views.erase, name="participant_erase"),
]
