from django.urls import include, path

app_name = "datamanagement"
urlpatterns: list = [
    path("", include("datamanagement.queries.urls")),
]
