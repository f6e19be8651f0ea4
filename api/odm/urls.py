from django.urls import path

from . import views

urlpatterns = [
    path("<slug:code>/odm.xml", views.odm, name="odm_export"),
    path("<slug:code>/redcap-data-dictionary.csv", views.redcap_dictionary,
         name="redcap_dictionary"),
]
