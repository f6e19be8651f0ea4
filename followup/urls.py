"""Mounted at the site root: staff pages under outbox/ and followup/, the patient's
survey link under s/."""

from django.urls import path

from . import survey, views
from .sms import views as sms_views

urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("followup/<slug:code>/overdue/", views.overdue, name="followup_overdue"),
    path("followup/<slug:code>/messages/", views.message_log, name="followup_messages"),
    path(
        "followup/contacts/<int:pk>/reschedule/",
        views.contact_reschedule,
        name="contact_reschedule",
    ),
    path("followup/contacts/<int:pk>/new-link/", views.contact_new_link, name="contact_new_link"),
    path("followup/<slug:code>/sms/", views.sms_followup, name="followup_sms"),
    path("sms/twilio/inbound/", sms_views.inbound, name="sms_inbound"),
    path("sms/twilio/status/", sms_views.status, name="sms_status"),
    path("s/<str:token>/", survey.survey_start, name="survey_start"),
    path("s/<str:token>/<int:page>/", survey.survey_page, name="survey_page"),
    path("s/<str:token>/done/", survey.survey_done, name="survey_done"),
]
