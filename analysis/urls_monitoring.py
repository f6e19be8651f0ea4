"""Monitoring pages; the site includes these at ``monitoring/``."""

from django.urls import path

from . import views_clinics
from . import views_monitoring as views

urlpatterns = [
    path("trials/<slug:code>/", views.dashboard, name="monitoring_dashboard"),
    path("trials/<slug:code>/clinics/", views_clinics.clinics, name="monitoring_clinics"),
    path(
        "trials/<slug:code>/participants/<slug:kind>/",
        views.participants,
        name="monitoring_participants",
    ),
    path(
        "trials/<slug:code>/consort.<str:fmt>",
        views.consort_download,
        name="monitoring_consort",
    ),
]
