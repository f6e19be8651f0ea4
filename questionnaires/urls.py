from django.urls import path

from . import views, views_missing

urlpatterns = [
    path("visit/<str:study_id>/<slug:timepoint>/", views.visit_start, name="visit_start"),
    path("visit/<str:study_id>/<slug:timepoint>/<int:page>/", views.visit_page, name="visit_page"),
    path("visit/<str:study_id>/<slug:timepoint>/done/", views.visit_done, name="visit_done"),
    path(
        "paper/<str:study_id>/<slug:timepoint>/<slug:instrument>/",
        views.paper_entry,
        name="paper_entry",
    ),
    path(
        "paper/<str:study_id>/<slug:timepoint>/<slug:instrument>/compare/",
        views.paper_compare,
        name="paper_compare",
    ),
    path(
        "my/<slug:trial>/<slug:timepoint>/<int:page>/",
        views.own_visit_page,
        name="own_visit_page",
    ),
    path("my/<slug:trial>/<slug:timepoint>/done/", views.own_visit_done, name="own_visit_done"),
    path("crpe/<str:study_id>/<slug:timepoint>/", views.crpe_form, name="crpe_form"),
    path("responses/<int:pk>/correct/", views.response_correct, name="response_correct"),
    path(
        "not-done/<str:study_id>/<slug:timepoint>/",
        views_missing.mark_not_done,
        name="mark_not_done",
    ),
]
