from django.urls import path

from .views import corrections, crpe, missing, paper, visits

urlpatterns = [
    path("visit/<str:study_id>/<slug:timepoint>/", visits.visit_start, name="visit_start"),
    path("visit/<str:study_id>/<slug:timepoint>/<int:page>/", visits.visit_page, name="visit_page"),
    path("visit/<str:study_id>/<slug:timepoint>/done/", visits.visit_done, name="visit_done"),
    path(
        "paper/<str:study_id>/<slug:timepoint>/<slug:instrument>/",
        paper.paper_entry,
        name="paper_entry",
    ),
    path(
        "paper/<str:study_id>/<slug:timepoint>/<slug:instrument>/compare/",
        paper.paper_compare,
        name="paper_compare",
    ),
    path(
        "my/<slug:trial>/<slug:timepoint>/<int:page>/",
        visits.own_visit_page,
        name="own_visit_page",
    ),
    path("my/<slug:trial>/<slug:timepoint>/done/", visits.own_visit_done, name="own_visit_done"),
    path("crpe/<str:study_id>/<slug:timepoint>/", crpe.crpe_form, name="crpe_form"),
    path("responses/<int:pk>/correct/", corrections.response_correct, name="response_correct"),
    path(
        "not-done/<str:study_id>/<slug:timepoint>/",
        missing.mark_not_done,
        name="mark_not_done",
    ),
]
