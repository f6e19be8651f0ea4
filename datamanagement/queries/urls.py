from django.urls import path

from . import views

urlpatterns = [
    path("trials/<slug:code>/queries/", views.query_list, name="query_list"),
    path("trials/<slug:code>/queries.csv", views.query_log_csv, name="query_log_csv"),
    path("participants/<str:study_id>/queries/new/", views.query_raise, name="query_raise"),
    path("queries/<int:pk>/", views.query_detail, name="query_detail"),
]
