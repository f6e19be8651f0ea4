"""Mounted at /paper/."""

from django.urls import path

from . import views

app_name = "paper"
urlpatterns = [
    path("<slug:code>/post/", views.post_today, name="post_today"),
    path("<slug:code>/post/packs.pdf", views.tray_pdf, name="tray_pdf"),
    path("pack/<str:study_id>/<slug:timepoint>.pdf", views.pack_pdf, name="pack_pdf"),
    path("<slug:code>/scans/", views.scans, name="scans"),
    path("<slug:code>/scans/<int:pk>/", views.batch, name="batch"),
    path("<slug:code>/pages/<int:pk>.png", views.page_image, name="page_image"),
    path("<slug:code>/entries/<int:pk>/", views.entry, name="entry"),
]
