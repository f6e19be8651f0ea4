from django.urls import include, path

from . import views

app_name = "datamanagement"
urlpatterns = [
    path("", include("datamanagement.queries.urls")),
    path("participant/<str:study_id>/", views.participant_page, name="participant"),
    path("participant/<str:study_id>/lock/", views.lock_participant_data, name="lock"),
    path("participant/<str:study_id>/verify/", views.verify, name="verify"),
    path("participant/<str:study_id>/sign/", views.sign, name="sign"),
    path("locks/<int:pk>/unlock/", views.unlock, name="unlock"),
    path("datasets/<int:pk>/download/", views.dataset_download, name="dataset_download"),
    path("<slug:trial>/", views.trial_page, name="trial"),
    path("<slug:trial>/freeze/", views.freeze, name="freeze"),
    path("<slug:trial>/database-lock/", views.database_lock, name="database_lock"),
    path("<slug:trial>/source-verification/", views.sdv_share, name="sdv_share"),
]
