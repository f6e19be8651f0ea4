"""Mounted at the site root: staff pages under outbox/ and followup/, the patient's
survey link under s/."""

from django.urls import path

from . import survey, views

urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("followup/<slug:code>/overdue/", views.overdue, name="followup_overdue"),
    path("followup/<slug:code>/messages/", views.message_log, name="followup_messages"),
    path(
        "followup/contacts/<int:pk>/reschedule/",
        views.contact_reschedule,
        name="contact_reschedule",
    ),
    path("s/<str:token>/", survey.survey_start, name="survey_start"),
    path("s/<str:token>/<int:page>/", survey.survey_page, name="survey_page"),
    path("s/<str:token>/done/", survey.survey_done, name="survey_done"),
]
