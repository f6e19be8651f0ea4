from django.urls import path

from . import views, views_process

urlpatterns = [
    path("trials/<slug:code>/workshops/", views.workshop_list, name="workshops"),
    path("trials/<slug:code>/workshops/<int:pk>/", views.workshop_detail, name="workshop_detail"),
    path(
        "trials/<slug:code>/workshops/<int:pk>/invite/",
        views.workshop_invite,
        name="workshop_invite",
    ),
    path("trials/<slug:code>/swot/", views_process.swot_list, name="swot_analyses"),
    path(
        "trials/<slug:code>/swot/<int:pk>/document/",
        views_process.swot_download,
        name="swot_download",
    ),
    path("trials/<slug:code>/interviews/", views_process.interviews, name="interviews"),
]
